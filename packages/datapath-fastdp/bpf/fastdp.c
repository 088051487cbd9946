// SPDX-License-Identifier: GPL-2.0
// weave-ts fast datapath: tc (direct-action) programs around a VXLAN device in external mode.
//
//   bridge `weave` ─▶ local-port TAP egress ── fdp_egress ── send flow (src MAC, dst MAC) fresh?
//                                                 yes ─▶ tunnel key {remote, VNI, ttl 64, DF, no csum}
//                                                        ─▶ redirect to the VXLAN device
//                                                 no  ─▶ TC_ACT_OK: the frame reaches the TAP, i.e.
//                                                        the TypeScript router (miss)
//   VXLAN device ingress ── fdp_ingress ── VNI dst short ID ours and deliver flow fresh?
//                                                 yes ─▶ the container's bridge port, when
//                                                        fdp_egress saw its MAC arrive there;
//                                                        else into the local-port TAP's ingress
//                                                        (the bridge sees it as from the router)
//                                                 no  ─▶ prepend [outer src IPv4 BE][tunnel id BE]
//                                                        ─▶ redirect to the miss TAP (userspace:
//                                                        heartbeats, broadcasts, relays, learning)
//
// The control plane fills the maps (bpftool on pinned maps). Flows carry the generation of `cfg`
// at install time: bumping the generation drops every flow at once (route changes, short IDs).
// They also carry two times (CLOCK_MONOTONIC ns): past `refresh_ns` exactly one frame of the flow
// goes to the router (which keeps its MAC ages fresh and re-installs the flow) while the others
// still take the kernel path; past `expires_ns` (an idle flow) every frame goes to the router.
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
	__u32 claimed;     // a frame past refresh_ns went to the router already
	__u64 refresh_ns;
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
	__u32 claimed;
	__u64 refresh_ns;
	__u64 expires_ns;
};

// Where a local MAC lives: the bridge port (host-side veth) its frames entered the bridge on, as
// fdp_egress sees them (skb->ingress_ifindex). Lets fdp_ingress skip the bridge, as a bridge port does.
struct port_val {
	__u32 ifindex;
	__u32 generation;
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
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64); // MAC in the low 48 bits, as bytes 0..5 of the key
	__type(value, struct port_val);
} local_ports SEC(".maps");

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

// Whether a flow may carry this frame: current generation, not expired, and past its refresh time
// only once the router has been sent one frame (this one is then it: not carried).
static __always_inline int usable(__u32 generation, __u32 current, __u32 *claimed, __u64 refresh_ns,
				  __u64 expires_ns)
{
	if (generation != current)
		return 0;
	__u64 now = bpf_ktime_get_ns();
	if (now > expires_ns)
		return 0;
	if (now > refresh_ns && !*claimed) {
		*claimed = 1; // a race between CPUs may let two frames through: harmless
		return 0;
	}
	return 1;
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
	if (skb->ingress_ifindex && skb->ingress_ifindex != c->port_ifindex) {
		__u64 mac = 0;
		__builtin_memcpy(&mac, key.src, 6);
		struct port_val *p = bpf_map_lookup_elem(&local_ports, &mac);
		if (!p || p->ifindex != skb->ingress_ifindex || p->generation != c->generation) {
			struct port_val v = {.ifindex = skb->ingress_ifindex, .generation = c->generation};
			bpf_map_update_elem(&local_ports, &mac, &v, BPF_ANY);
		}
	}
	struct send_val *flow = bpf_map_lookup_elem(&send_flows, &key);
	if (!flow || !usable(flow->generation, c->generation, &flow->claimed, flow->refresh_ns, flow->expires_ns)) {
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
			if (flow && usable(flow->generation, c->generation, &flow->claimed, flow->refresh_ns,
					   flow->expires_ns)) {
				count(STAT_DELIVERED);
				__u64 mac = 0;
				__builtin_memcpy(&mac, key.dst, 6);
				struct port_val *p = bpf_map_lookup_elem(&local_ports, &mac);
				if (p && p->generation == c->generation && p->ifindex)
					return bpf_redirect(p->ifindex, 0);
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
