// CTap: the ioctls of a kernel tap that Swift cannot make itself (ioctl is variadic, the
// request numbers are _IOW macros, struct ifreq is a union). Thin wrappers only: each returns
// 0 or -errno and does nothing else.
#ifndef CTAP_H
#define CTAP_H

#include <stdint.h>

// TUNSETOFFLOAD bits (include/uapi/linux/if_tun.h, 6.17+).
#define CTAP_TUN_F_CSUM 0x01u
#define CTAP_TUN_F_TSO4 0x02u
#define CTAP_TUN_F_TSO6 0x04u
#define CTAP_TUN_F_TSO_ECN 0x08u
#define CTAP_TUN_F_UFO 0x10u
#define CTAP_TUN_F_USO4 0x20u
#define CTAP_TUN_F_USO6 0x40u
#define CTAP_TUN_F_UDP_TUNNEL_GSO 0x080u
#define CTAP_TUN_F_UDP_TUNNEL_GSO_CSUM 0x100u

/// setns(fd, CLONE_NEWNET) on the calling thread.
int ctap_setns_net(int fd);
/// TUNSETIFF with IFF_TAP | IFF_NO_PI | IFF_VNET_HDR on an open /dev/net/tun.
int ctap_set_iff_tap_vnet(int fd, const char *name);
/// TUNGETIFF: the flags the attached interface has.
int ctap_get_iff_flags(int fd, unsigned *flags);
/// TUNSETVNETHDRSZ / TUNGETVNETHDRSZ.
int ctap_set_vnet_hdr_size(int fd, int size);
int ctap_get_vnet_hdr_size(int fd, int *size);
/// TUNSETOFFLOAD (the argument is passed by value; unknown bits give -EINVAL).
int ctap_set_offload(int fd, unsigned offloads);
/// SIOCGIFINDEX / SIOCGIFMTU / SIOCGIFHWADDR on a socket of the interface's namespace.
int ctap_if_index(int sock, const char *name, int *index);
int ctap_if_mtu(int sock, const char *name, int *mtu);
int ctap_if_hwaddr(int sock, const char *name, uint8_t mac[6]);

#endif
