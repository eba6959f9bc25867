// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Test packet builder (see pkt.h). Writes every field byte by byte in
 * network order and computes each checksum from scratch over the result.
 */
#include <netinet/in.h>
#include <string.h>

#include "pkt.h"

#define ETH_HLEN_	14
#define IP4_HLEN	20
#define IP6_HLEN	40
#define TCP_HLEN	20
#define UDP_HLEN	8
#define ICMP_HLEN	8

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

uint32_t pkt_sum(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;
	size_t i;

	for (i = 0; i + 1 < len; i += 2) {
		sum += (uint32_t)p[i] << 8 | p[i + 1];
		sum = (sum & 0xffff) + (sum >> 16);
	}
	if (len & 1) {
		sum += (uint32_t)p[len - 1] << 8;
		sum = (sum & 0xffff) + (sum >> 16);
	}
	return sum;
}

uint16_t pkt_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

/* Sum of the pseudo header of an L4 segment of l4len bytes. */
static uint32_t pseudo_sum(const struct pkt_spec *s, size_t l4len)
{
	uint8_t ph[40];
	size_t n;

	if (s->family == 4) {
		memcpy(ph, s->saddr.b, 4);
		memcpy(ph + 4, s->daddr.b, 4);
		ph[8] = 0;
		ph[9] = s->proto;
		put16(ph + 10, l4len);
		n = 12;
	} else {
		memcpy(ph, s->saddr.b, 16);
		memcpy(ph + 16, s->daddr.b, 16);
		put32(ph + 32, l4len);
		ph[36] = ph[37] = ph[38] = 0;
		ph[39] = s->proto;
		n = 40;
	}
	return pkt_sum(ph, n, 0);
}

static size_t write_ipv4_options(uint8_t *p, int len)
{
	int i;

	if (len <= 0)
		return 0;
	/* Router Alert (RFC 2113), then NOPs, then End of Options. */
	p[0] = 0x94;
	p[1] = 4;
	p[2] = p[3] = 0;
	for (i = 4; i < len; i++)
		p[i] = 1;
	if (len > 4)
		p[len - 1] = 0;
	return len;
}

/* Writes one IPv6 extension header; returns its length or 0. */
static size_t write_ext(uint8_t *p, const struct pkt_ext *e, uint8_t next,
			uint32_t frag_id)
{
	size_t len = ((size_t)e->len8 + 1) * 8, i;

	p[0] = next;
	switch (e->type) {
	case IPPROTO_HOPOPTS:
	case IPPROTO_DSTOPTS:
		p[1] = e->len8;
		/* One PadN option filling the rest. */
		p[2] = 1;
		p[3] = len - 4;
		for (i = 4; i < len; i++)
			p[i] = 0;
		return len;
	case IPPROTO_ROUTING:
		p[1] = e->len8;
		p[2] = 253;	/* experimental routing type (RFC 4727) */
		p[3] = 0;	/* segments left: the destination is final */
		for (i = 4; i < len; i++)
			p[i] = 0;
		return len;
	case IPPROTO_FRAGMENT:
		p[1] = 0;
		put16(p + 2, (uint16_t)(e->frag_off << 3) | (e->mf ? 1 : 0));
		put32(p + 4, frag_id);
		return 8;
	default:
		return 0;
	}
}

static size_t cut_point(const struct pkt_spec *s, const struct pkt_layout *l)
{
	size_t base;

	switch (s->cut) {
	case PKT_CUT_L2:
		base = 0;
		break;
	case PKT_CUT_L3:
		base = l->l3;
		break;
	case PKT_CUT_L3_FIXED:
		base = l->l3_fixed_end;
		break;
	case PKT_CUT_EXT:
		base = l->ext_end;
		break;
	case PKT_CUT_L4:
		base = l->l4;
		break;
	case PKT_CUT_PAYLOAD:
		base = l->payload;
		break;
	default:
		return l->len;
	}
	base += s->cut_adj;
	return base < l->len ? base : l->len;
}

size_t pkt_build(const struct pkt_spec *s, uint8_t *buf, size_t cap,
		 struct pkt_layout *lay)
{
	struct pkt_layout l = {};
	uint8_t *ip, *l4;
	size_t off = 0, l4len, hdrlen = 0, elen, n;
	uint16_t csum;
	int i;

	if (s->nvlan < 0 || s->nvlan > PKT_MAX_VLAN || s->next < 0 ||
	    s->next > PKT_MAX_EXT || s->ipopt_len < 0 || s->ipopt_len > 40 ||
	    s->ipopt_len % 4 || s->tcpopt_len < 0 || s->tcpopt_len > 40 ||
	    s->tcpopt_len % 4 || s->payload_len < 0)
		return 0;
	/* The exact frame length, checked against cap before writing. */
	n = ETH_HLEN_ + 4 * s->nvlan + s->payload_len;
	if (s->family == 4)
		n += IP4_HLEN + s->ipopt_len;
	else if (s->family == 6)
		n += IP6_HLEN;
	for (i = 0; s->family == 6 && i < s->next; i++)
		n += s->ext[i].type == IPPROTO_FRAGMENT ?
		     8 : ((size_t)s->ext[i].len8 + 1) * 8;
	if (s->family == 4 || s->family == 6) {
		if (s->proto == IPPROTO_TCP)
			n += TCP_HLEN + s->tcpopt_len;
		else if (s->proto == IPPROTO_UDP)
			n += UDP_HLEN;
		else if (s->proto == IPPROTO_ICMP || s->proto == IPPROTO_ICMPV6)
			n += ICMP_HLEN;
	}
	if (n > cap)
		return 0;
	memset(buf, 0, n);

	memcpy(buf, s->dmac, 6);
	memcpy(buf + 6, s->smac, 6);
	off = 12;
	for (i = 0; i < s->nvlan; i++) {
		put16(buf + off, s->vlan_tpid[i] ? s->vlan_tpid[i] : 0x8100);
		put16(buf + off + 2, s->vlan_tci[i]);
		off += 4;
	}
	if (s->family == 4)
		put16(buf + off, 0x0800);
	else if (s->family == 6)
		put16(buf + off, 0x86dd);
	else
		put16(buf + off, s->ethertype);
	off += 2;

	l.l3 = off;
	if (s->family == 0) {
		for (i = 0; i < s->payload_len; i++)
			buf[off + i] = s->payload_seed + i * 7;
		l.l3_fixed_end = l.ext_end = l.l4 = l.payload = off;
		l.len = off + s->payload_len;
		goto done;
	}

	ip = buf + off;
	if (s->family == 4) {
		hdrlen = IP4_HLEN + s->ipopt_len;
		l.l3_fixed_end = off + IP4_HLEN;
		write_ipv4_options(ip + IP4_HLEN, s->ipopt_len);
		off += hdrlen;
		l.ext_end = off;
	} else if (s->family == 6) {
		uint8_t next;

		off += IP6_HLEN;
		l.l3_fixed_end = off;
		for (i = 0; i < s->next; i++) {
			next = i + 1 < s->next ? s->ext[i + 1].type : s->proto;
			elen = write_ext(buf + off, &s->ext[i], next,
					 0x5eed0000u + s->ip_id);
			if (!elen)
				return 0;
			off += elen;
			if (i == 0)
				l.ext_end = off;
		}
		if (!s->next)
			l.ext_end = off;
	} else {
		return 0;
	}

	l.l4 = off;
	l4 = buf + off;
	switch (s->proto) {
	case IPPROTO_TCP:
		put16(l4, s->sport);
		put16(l4 + 2, s->dport);
		put32(l4 + 4, s->seq);
		put32(l4 + 8, s->ack);
		l4[12] = ((TCP_HLEN + s->tcpopt_len) / 4) << 4;
		l4[13] = s->tcp_flags ? s->tcp_flags : 0x10;
		put16(l4 + 14, 64240);
		/* l4[16..17] checksum, l4[18..19] urgent pointer: 0 */
		if (s->tcpopt_len) {
			/* MSS 1460, then NOPs. */
			l4[20] = 2;
			l4[21] = 4;
			put16(l4 + 22, 1460);
			for (i = 4; i < s->tcpopt_len; i++)
				l4[TCP_HLEN + i] = 1;
		}
		off += TCP_HLEN + s->tcpopt_len;
		break;
	case IPPROTO_UDP:
		put16(l4, s->sport);
		put16(l4 + 2, s->dport);
		put16(l4 + 4, UDP_HLEN + s->payload_len);
		off += UDP_HLEN;
		break;
	case IPPROTO_ICMP:
		l4[0] = 8;	/* echo request */
		put16(l4 + 4, s->sport);	/* identifier */
		put16(l4 + 6, s->dport);	/* sequence */
		off += ICMP_HLEN;
		break;
	case IPPROTO_ICMPV6:
		l4[0] = 128;	/* echo request */
		put16(l4 + 4, s->sport);
		put16(l4 + 6, s->dport);
		off += ICMP_HLEN;
		break;
	default:
		break;		/* raw payload right after the IP headers */
	}
	l.payload = off;
	for (i = 0; i < s->payload_len; i++)
		buf[off + i] = s->payload_seed + i * 7;
	if (s->payload_word0 && s->payload_len >= 2)
		put16(buf + off, s->payload_word0);
	off += s->payload_len;
	l.len = off;
	l4len = l.len - l.l4;

	/* IP header, then its checksum over the finished header. */
	if (s->family == 4) {
		ip[0] = 0x40 | (hdrlen / 4);
		ip[1] = s->tos;
		put16(ip + 2, l.len - l.l3);
		put16(ip + 4, s->ip_id);
		put16(ip + 6, s->frag);
		ip[8] = s->ttl ? s->ttl : 64;
		ip[9] = s->proto;
		memcpy(ip + 12, s->saddr.b, 4);
		memcpy(ip + 16, s->daddr.b, 4);
		put16(ip + 10, pkt_fold(pkt_sum(ip, hdrlen, 0)));
	} else {
		ip[0] = 0x60 | (s->tos >> 4);
		ip[1] = (s->tos & 0xf) << 4;
		put16(ip + 4, l.len - l.l3_fixed_end);
		ip[6] = s->next ? s->ext[0].type : s->proto;
		ip[7] = s->ttl ? s->ttl : 64;
		memcpy(ip + 8, s->saddr.b, 16);
		memcpy(ip + 24, s->daddr.b, 16);
	}

	/* L4 checksum over pseudo header + segment (checksum field 0). */
	switch (s->proto) {
	case IPPROTO_TCP:
		csum = pkt_fold(pkt_sum(l4, l4len, pseudo_sum(s, l4len)));
		put16(l4 + 16, csum);
		break;
	case IPPROTO_UDP:
		if (s->udp_nocsum)
			break;
		csum = pkt_fold(pkt_sum(l4, l4len, pseudo_sum(s, l4len)));
		/* A computed 0 goes out as 0xffff: 0 means "no checksum". */
		put16(l4 + 6, csum ? csum : 0xffff);
		break;
	case IPPROTO_ICMP:
		put16(l4 + 2, pkt_fold(pkt_sum(l4, l4len, 0)));
		break;
	case IPPROTO_ICMPV6:
		put16(l4 + 2, pkt_fold(pkt_sum(l4, l4len,
					       pseudo_sum(s, l4len))));
		break;
	default:
		break;
	}

done:
	if (l.len != n)
		return 0;	/* the length computed above is wrong */
	if (lay)
		*lay = l;
	return cut_point(s, &l);
}

/* ---- Fragments ---- */

size_t pkt_build_frag(const struct pkt_spec *s, const struct pkt_frag *fr,
		      uint8_t *buf, size_t cap, struct pkt_layout *lay)
{
	uint8_t whole[PKT_MAX_LEN];
	struct pkt_spec d = *s;
	struct pkt_layout w, l;
	size_t hdr, fh, n, i, last;
	uint8_t *ip;

	d.frag = 0;
	d.cut = PKT_CUT_NONE;
	if (!fr->len || fr->off % 8 ||
	    !pkt_build(&d, whole, sizeof(whole), &w) ||
	    fr->off + fr->len > w.len - w.l4)
		return 0;
	/* The headers up to L4, then (IPv6) the fragment header, then the
	 * fragment's bytes. */
	hdr = w.l4;
	fh = s->family == 6 ? 8 : 0;
	n = hdr + fh + fr->len;
	if (n > cap)
		return 0;
	memcpy(buf, whole, hdr);
	memcpy(buf + hdr + fh, whole + w.l4 + fr->off, fr->len);
	ip = buf + w.l3;
	l = w;
	if (s->family == 4) {
		put16(ip + 2, n - w.l3);
		put16(ip + 6, (fr->mf ? 0x2000 : 0) | fr->off / 8);
		ip[10] = ip[11] = 0;
		put16(ip + 10, pkt_fold(pkt_sum(ip, hdr - w.l3, 0)));
	} else if (s->family == 6) {
		/* The next-header field that named L4 now names the fragment
		 * header: the IPv6 header's, or the last extension's. */
		last = w.l3 + 6;
		for (i = 0, n = w.l3_fixed_end; i < (size_t)s->next; i++) {
			last = n;
			n += s->ext[i].type == IPPROTO_FRAGMENT ?
				     8 :
				     ((size_t)s->ext[i].len8 + 1) * 8;
		}
		buf[last] = IPPROTO_FRAGMENT;
		buf[hdr] = s->proto;
		buf[hdr + 1] = 0;
		put16(buf + hdr + 2, (uint16_t)fr->off | (fr->mf ? 1 : 0));
		put32(buf + hdr + 4, 0x5eed0000u + s->ip_id);
		n = hdr + fh + fr->len;
		put16(ip + 4, n - w.l3_fixed_end);
		if (!s->next)
			l.ext_end = hdr + fh;
	} else {
		return 0;
	}
	l.l4 = hdr + fh;
	l.payload = fr->off ? l.l4 : l.l4 + (w.payload - w.l4);
	l.len = n;
	if (lay)
		*lay = l;
	return n;
}

/* ---- ICMP errors with a quoted packet ---------------------------------- */

size_t pkt_build_icmp_err(const struct pkt_spec *outer,
			  const struct pkt_icmp_err *e,
			  const struct pkt_spec *inner, uint8_t *buf,
			  size_t cap, struct pkt_layout *lay)
{
	uint8_t q[PKT_MAX_LEN], *icmp;
	struct pkt_layout il, l;
	struct pkt_spec o = *outer;
	size_t qend, n, icmp_len;

	if (inner->family != outer->family ||
	    (inner->family != 4 && inner->family != 6))
		return 0;
	/* The whole inner packet, then as much of it as is quoted. */
	n = pkt_build(inner, q, sizeof(q), &il);
	if (!n)
		return 0;
	qend = e->quote_l4 && il.l4 + e->quote_l4 < n ? il.l4 + e->quote_l4 : n;

	/* The outer frame with a payload of the quote's size; its echo
	 * header is then rewritten into the error's. */
	o.proto = o.family == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	o.payload_len = qend - il.l3;
	o.payload_word0 = 0;
	n = pkt_build(&o, buf, cap, &l);
	if (!n)
		return 0;
	icmp = buf + l.l4;
	icmp_len = l.len - l.l4;
	icmp[0] = e->type;
	icmp[1] = e->code;
	put16(icmp + 2, 0);
	put32(icmp + 4, e->mtu);
	memcpy(buf + l.payload, q + il.l3, qend - il.l3);
	put16(icmp + 2, pkt_fold(pkt_sum(icmp, icmp_len,
					 o.family == 6 ?
					 pseudo_sum(&o, icmp_len) : 0)));
	if (lay)
		*lay = l;
	return n;
}
