// SPDX-License-Identifier: GPL-2.0
// weave-ts fast datapath: tc (direct-action) programs around a VXLAN device in external mode.
//
//   bridge `weave` ─▶ local-port TAP egress ── fdp_egress ── send flow (src MAC, dst MAC) fresh?
//                                                 yes ─▶ tunnel key {remote, VNI, ttl 64, DF, no csum}
//                                                        ─▶ redirect to the VXLAN device
//                                                 no  ─▶ TC_ACT_OK: the frame reaches the TAP, i.e.
//                                                        the TypeScript router (miss)
//   VXLAN device ingress ── fdp_ingress ── VNI dst short ID ours and deliver flow fresh?
//                                                 yes ─▶ redirect into the local-port TAP's ingress
//                                                        (the bridge sees it as from the router)
//                                                 no  ─▶ prepend [outer src IPv4 BE][tunnel id BE]
//                                                        ─▶ redirect to the miss TAP (userspace:
//                                                        heartbeats, broadcasts, relays, learning)
//
// The control plane fills the maps (bpftool on pinned maps). Flows carry the generation of `cfg`
// at install time: bumping the generation drops every flow at once (route changes, short IDs).
// They also carry an expiry (CLOCK_MONOTONIC ns) so the router keeps seeing a frame of every
// flow now and then and keeps its MAC ages fresh.
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

struct fdp_cfg {
	__u32 vxlan_ifindex; // the VXLAN device (external mode)
	__u32 port_ifindex;  // the local-port TAP (the router's port on the bridge)
	__u32 miss_ifindex;  // the miss TAP the control plane reads
	__u32 local_short;   // our short ID (12 bits)
	__u32 generation;    // flows of another generation are ignored
	__u32 reserved;
};

struct send_key {
	__u8 src[6];
	__u8 dst[6];
};

struct send_val {
	__u32 remote_ipv4; // host byte order, as bpf_tunnel_key wants it
	__u32 tunnel_id;   // src short ID | dst short ID << 12
	__u32 generation;
	__u32 reserved;
	__u64 expires_ns;
};

struct deliver_key {
	__u8 src[6];
	__u8 dst[6];
	__u16 src_short;
	__u16 reserved;
};

struct deliver_val {
	__u32 generation;
	__u32 reserved;
	__u64 expires_ns;
};

enum fdp_stat {
	STAT_SENT = 0,      // frames sent into the tunnel by fdp_egress
	STAT_DELIVERED = 1, // frames delivered to the bridge by fdp_ingress
	STAT_MISS_OUT = 2,  // frames fdp_egress left to the router
	STAT_MISS_IN = 3,   // frames fdp_ingress handed to the miss TAP
	STAT_ERRORS = 4,    // tunnel key or head room failures
	STAT_COUNT = 5,
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fdp_cfg);
} cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct send_key);
	__type(value, struct send_val);
} send_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct deliver_key);
	__type(value, struct deliver_val);
} deliver_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STAT_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

static __always_inline void count(__u32 which)
{
	__u64 *n = bpf_map_lookup_elem(&stats, &which);
	if (n)
		*n += 1;
}

static __always_inline struct fdp_cfg *config(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&cfg, &zero);
}

SEC("tc")
int fdp_egress(struct __sk_buff *skb)
{
	struct fdp_cfg *c = config();
	if (!c || !c->vxlan_ifindex)
		return TC_ACT_OK;
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	if (data + 14 > data_end)
		return TC_ACT_OK;
	struct send_key key;
	__builtin_memcpy(key.dst, data, 6);
	__builtin_memcpy(key.src, data + 6, 6);
	struct send_val *flow = bpf_map_lookup_elem(&send_flows, &key);
	if (!flow || flow->generation != c->generation || flow->expires_ns < bpf_ktime_get_ns()) {
		count(STAT_MISS_OUT);
		return TC_ACT_OK;
	}
	struct bpf_tunnel_key tkey = {};
	tkey.remote_ipv4 = flow->remote_ipv4;
	tkey.tunnel_id = flow->tunnel_id;
	tkey.tunnel_ttl = 64;
	if (bpf_skb_set_tunnel_key(skb, &tkey, sizeof(tkey), BPF_F_ZERO_CSUM_TX | BPF_F_DONT_FRAGMENT) < 0) {
		count(STAT_ERRORS);
		return TC_ACT_OK;
	}
	count(STAT_SENT);
	return bpf_redirect(c->vxlan_ifindex, 0);
}

SEC("tc")
int fdp_ingress(struct __sk_buff *skb)
{
	struct bpf_tunnel_key tkey = {};
	if (bpf_skb_get_tunnel_key(skb, &tkey, sizeof(tkey), 0) < 0) {
		count(STAT_ERRORS);
		return TC_ACT_SHOT;
	}
	struct fdp_cfg *c = config();
	if (!c || !c->miss_ifindex)
		return TC_ACT_SHOT;
	__u32 miss_ifindex = c->miss_ifindex;
	__u32 vni = tkey.tunnel_id & 0xffffff;
	if (((vni >> 12) & 0xfff) == c->local_short && c->port_ifindex) {
		void *data = (void *)(long)skb->data;
		void *data_end = (void *)(long)skb->data_end;
		if (data + 14 <= data_end) {
			struct deliver_key key = {};
			__builtin_memcpy(key.dst, data, 6);
			__builtin_memcpy(key.src, data + 6, 6);
			key.src_short = vni & 0xfff;
			struct deliver_val *flow = bpf_map_lookup_elem(&deliver_flows, &key);
			if (flow && flow->generation == c->generation && flow->expires_ns >= bpf_ktime_get_ns()) {
				count(STAT_DELIVERED);
				return bpf_redirect(c->port_ifindex, BPF_F_INGRESS);
			}
		}
	}
	// Miss: hand the frame to userspace with the tunnel metadata in front.
	__u32 meta[2] = {bpf_htonl(tkey.remote_ipv4), bpf_htonl(vni)};
	if (bpf_skb_change_head(skb, sizeof(meta), 0) < 0 ||
	    bpf_skb_store_bytes(skb, 0, meta, sizeof(meta), 0) < 0) {
		count(STAT_ERRORS);
		return TC_ACT_SHOT;
	}
	count(STAT_MISS_IN);
	return bpf_redirect(miss_ifindex, 0);
}

char _license[] SEC("license") = "GPL";
