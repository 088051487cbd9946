/*
 * Gratuitous ARP: garpSend(netnsPath | null, ifName, ipv4Bytes) broadcasts one ARP request whose sender
 * and target address are both the given IPv4 address, from the interface's own MAC. With a namespace
 * path, the calling thread enters that namespace only long enough to create the packet socket (a socket
 * stays in the namespace it was created in), then returns to its own namespace before anything else.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "napi_util.h"

/* Creates an AF_PACKET socket inside the namespace at ns_path (or here when NULL). Returns -errno. */
static int packet_socket_in(const char *ns_path, const char **failed) {
  int home = -1, target = -1, sock, err = 0;
  if (ns_path != NULL) {
    home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (home < 0) return *failed = "open /proc/thread-self/ns/net", -errno;
    target = open(ns_path, O_RDONLY | O_CLOEXEC);
    if (target < 0) {
      err = errno;
      close(home);
      return *failed = "open netns", -err;
    }
    if (setns(target, CLONE_NEWNET) < 0) {
      err = errno;
      close(target);
      close(home);
      return *failed = "setns", -err;
    }
  }
  sock = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ARP));
  if (sock < 0) err = errno, *failed = "socket AF_PACKET";
  if (ns_path != NULL) {
    /* A main thread left in another namespace would silently misroute everything after: never allow it. */
    if (setns(home, CLONE_NEWNET) < 0) {
      perror("weave-ts host addon: cannot return to the original network namespace");
      abort();
    }
    close(target);
    close(home);
  }
  return sock < 0 ? -err : sock;
}

napi_value garp_send(napi_env env, napi_callback_info info) {
  WN_ARGS(3);
  char ns_path[256], if_name[IFNAMSIZ];
  napi_valuetype ns_type;
  uint8_t *ip;
  size_t ip_len;
  if (argc < 3) return wn_throw_type(env, "netnsPath, ifName and address are required");
  NAPI_CHECK(env, napi_typeof(env, argv[0], &ns_type));
  bool in_ns = ns_type != napi_null && ns_type != napi_undefined;
  if ((in_ns && !wn_get_string(env, argv[0], ns_path, sizeof ns_path, "netnsPath")) ||
      !wn_get_string(env, argv[1], if_name, sizeof if_name, "ifName") ||
      !wn_get_bytes(env, argv[2], &ip, &ip_len, "address"))
    return NULL;
  if (ip_len != 4) return wn_throw_type(env, "address must be 4 bytes");

  const char *failed = "";
  int sock = packet_socket_in(in_ns ? ns_path : NULL, &failed);
  if (sock < 0) return wn_throw_errno(env, -sock, failed);

  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, if_name, strlen(if_name));
  int err = 0;
  if (ioctl(sock, SIOCGIFINDEX, &ifr) < 0) err = errno, failed = "ioctl SIOCGIFINDEX";
  int ifindex = ifr.ifr_ifindex;
  if (err == 0 && ioctl(sock, SIOCGIFHWADDR, &ifr) < 0) err = errno, failed = "ioctl SIOCGIFHWADDR";
  if (err != 0) {
    close(sock);
    return wn_throw_errno(env, err, failed);
  }

  /* ARP payload for Ethernet/IPv4: the kernel adds the Ethernet header from sockaddr_ll. */
  uint8_t arp[28];
  arp[0] = 0, arp[1] = 1;       /* hardware type Ethernet */
  arp[2] = 0x08, arp[3] = 0x00; /* protocol IPv4 */
  arp[4] = 6, arp[5] = 4;       /* address lengths */
  arp[6] = 0, arp[7] = 1;       /* request */
  memcpy(arp + 8, ifr.ifr_hwaddr.sa_data, 6);
  memcpy(arp + 14, ip, 4);
  memset(arp + 18, 0, 6);
  memcpy(arp + 24, ip, 4);

  struct sockaddr_ll to;
  memset(&to, 0, sizeof to);
  to.sll_family = AF_PACKET;
  to.sll_protocol = htons(ETH_P_ARP);
  to.sll_ifindex = ifindex;
  to.sll_halen = 6;
  memset(to.sll_addr, 0xff, 6);
  if (sendto(sock, arp, sizeof arp, 0, (struct sockaddr *)&to, sizeof to) < 0) {
    err = errno;
    close(sock);
    return wn_throw_errno(env, err, "sendto");
  }
  close(sock);
  return NULL;
}
