/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Test packet builder, independent of the datapath: Ethernet with 0-3
 * VLAN tags, IPv4 (options, fragment bits) or IPv6 (extension headers),
 * then TCP, UDP, ICMP, ICMPv6 or raw bytes of any other protocol.
 *
 * Every checksum (IPv4 header, TCP, UDP, ICMP, ICMPv6) is computed from
 * scratch over the finished bytes with this file's own one's-complement
 * sum; nothing here shares code with bpf/lib/csum.h, so a packet built
 * here is a reference the datapath's incremental updates are held to.
 */
#ifndef XLB_SELFTEST_PKT_H
#define XLB_SELFTEST_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PKT_MAX_VLAN	3
#define PKT_MAX_EXT	8
#define PKT_MAX_LEN	1514

/* An address as the packet carries it: IPv4 in the first 4 bytes. */
struct pkt_addr {
	uint8_t b[16];
};

/* Initializers of a struct pkt_addr (brace lists, for tables). */
#define PKT_V4(a, b_, c, d) { .b = { a, b_, c, d } }
/* An IPv6 address given as eight 16-bit groups. */
#define PKT_V6(g0, g1, g2, g3, g4, g5, g6, g7)                             \
	{ .b = { (g0) >> 8, (g0) & 0xff, (g1) >> 8, (g1) & 0xff,           \
		 (g2) >> 8, (g2) & 0xff, (g3) >> 8, (g3) & 0xff,           \
		 (g4) >> 8, (g4) & 0xff, (g5) >> 8, (g5) & 0xff,           \
		 (g6) >> 8, (g6) & 0xff, (g7) >> 8, (g7) & 0xff } }

/* IPv6 extension header: type is the IPPROTO_* value (HOPOPTS, ROUTING,
 * DSTOPTS, FRAGMENT). len8 is the header length field (8-byte units
 * beyond the first 8) for the option-carrying types; a routing header is
 * written with segments left 0, so the pseudo header keeps the IPv6
 * destination. For a fragment header, frag_off (in 8-byte units) and mf. */
struct pkt_ext {
	uint8_t type;
	uint8_t len8;
	uint16_t frag_off;
	bool mf;
};

/* Where the packet ends when it is cut short on purpose. */
enum pkt_cut_at {
	PKT_CUT_NONE = 0,
	PKT_CUT_L2,		/* start of the frame (then cut_adj >= 14) */
	PKT_CUT_L3,		/* start of the IP header */
	PKT_CUT_L3_FIXED,	/* end of the fixed IP header (20 / 40 bytes) */
	PKT_CUT_EXT,		/* end of the first IPv6 extension header */
	PKT_CUT_L4,		/* start of the L4 header */
	PKT_CUT_PAYLOAD,	/* start of the L4 payload */
};

struct pkt_spec {
	uint8_t dmac[6], smac[6];
	int nvlan;				/* VLAN tags, outermost first */
	uint16_t vlan_tpid[PKT_MAX_VLAN];	/* 0 = 0x8100 */
	uint16_t vlan_tci[PKT_MAX_VLAN];
	uint16_t ethertype;	/* non-IP frame when family == 0 */

	int family;		/* 4, 6, or 0 for a non-IP frame */
	struct pkt_addr saddr, daddr;
	uint8_t tos, ttl;	/* ttl 0 = 64 */
	uint16_t ip_id;
	uint16_t frag;		/* IPv4 frag_off field, host order (DF, MF, offset) */
	int ipopt_len;		/* IPv4 option bytes, multiple of 4, <= 40 */
	int next;		/* IPv6 extension headers */
	struct pkt_ext ext[PKT_MAX_EXT];

	uint8_t proto;		/* IPPROTO_TCP, _UDP, _ICMP, _ICMPV6, other */
	uint16_t sport, dport;	/* host order */
	uint8_t tcp_flags;	/* 0 = ACK */
	uint32_t seq, ack;
	int tcpopt_len;		/* TCP option bytes, multiple of 4 */
	bool udp_nocsum;	/* UDP sent without checksum (0) */
	int payload_len;	/* bytes after the L4 header */
	uint8_t payload_seed;	/* payload byte i = seed + i * 7 */
	uint16_t payload_word0;	/* nonzero: first 2 payload bytes, network order */

	enum pkt_cut_at cut;	/* cut the frame short at this point */
	int cut_adj;		/* ... plus this many bytes */
};

/* Offsets of the headers in a built packet. */
struct pkt_layout {
	size_t l3;		/* IP header */
	size_t l3_fixed_end;	/* after the fixed IP header */
	size_t ext_end;		/* after the first extension header (IPv6) */
	size_t l4;		/* L4 header */
	size_t payload;		/* L4 payload */
	size_t len;		/* full length, before any cut */
};

/* Builds s into buf (cap bytes); returns the frame length (after the
 * cut, if any), or 0 if the spec does not fit or makes no sense. */
size_t pkt_build(const struct pkt_spec *s, uint8_t *buf, size_t cap,
		 struct pkt_layout *lay);

/* One's-complement sum of len bytes added to sum (not folded). */
uint32_t pkt_sum(const void *data, size_t len, uint32_t sum);
/* Folds and complements a sum into a checksum field value (host order). */
uint16_t pkt_fold(uint32_t sum);

/* ---- Fragments ---- */

/* One fragment of a datagram: bytes off .. off + len - 1 of what follows
 * its IP headers (the L4 header, then the payload). */
struct pkt_frag {
	uint16_t off;	/* a multiple of 8 */
	uint16_t len;	/* bytes carried, > 0 */
	bool mf;	/* more fragments follow */
};

/* Builds fragment fr of the datagram s (s itself unfragmented: its frag
 * field and cut are ignored) into buf; returns the frame length, or 0 if
 * it does not fit or fr is not inside the datagram. The datagram is built
 * whole first, so a first fragment carries the L4 header with the length
 * and checksum of the whole datagram, as a sender's stack writes them.
 * IPv4: the header gets the offset and MF, its length and a new
 * checksum. IPv6: a fragment header follows s's extension headers, with
 * identification 0x5eed0000 + s->ip_id, as pkt_build writes it. lay gets
 * the fragment's offsets; l4 and payload are where its bytes start. */
size_t pkt_build_frag(const struct pkt_spec *s, const struct pkt_frag *fr,
		      uint8_t *buf, size_t cap, struct pkt_layout *lay);

/*
 * An ICMP or ICMPv6 error quoting a packet, nested as katran's
 * PacketBuilder nests .ICMP().IPv4().TCP(): outer gives the error's frame
 * (MACs, VLANs, family, addresses, ttl, cut; its proto and payload are
 * set here), inner the packet the error is about, built by pkt_build of
 * the same family (its Ethernet header dropped). The quote is inner's IP
 * header(s) and the first quote_l4 bytes of its L4 header and payload,
 * so inner's lengths and checksums stay those of the whole packet, as
 * its sender wrote them. The ICMP checksum is computed from scratch over
 * the finished message (with the pseudo header for ICMPv6).
 */
struct pkt_icmp_err {
	uint8_t type, code;	/* ICMP_DEST_UNREACH/ICMP_FRAG_NEEDED,
				 * ICMP6_PACKET_TOO_BIG, ... */
	uint32_t mtu;		/* header bytes 4-7: the next-hop MTU of
				 * frag needed (< 65536), the MTU of packet
				 * too big; 0 for the others */
	size_t quote_l4;	/* L4 bytes quoted (RFC 792: at least 8);
				 * 0 = all of them */
};

/* Builds the error into buf as pkt_build does (same return value and
 * layout: lay->payload is where the quote starts); 0 if either spec does
 * not fit or makes no sense, or their families differ. */
size_t pkt_build_icmp_err(const struct pkt_spec *outer,
			  const struct pkt_icmp_err *e,
			  const struct pkt_spec *inner, uint8_t *buf,
			  size_t cap, struct pkt_layout *lay);

#endif /* XLB_SELFTEST_PKT_H */
