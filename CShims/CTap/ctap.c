#define _GNU_SOURCE
#include "ctap.h"

#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/if_tun.h>

static int result(int r) { return r < 0 ? -errno : 0; }

static void set_name(struct ifreq *ifr, const char *name) {
    memset(ifr, 0, sizeof *ifr);
    strncpy(ifr->ifr_name, name, IFNAMSIZ - 1);
}

int ctap_setns_net(int fd) { return result(setns(fd, CLONE_NEWNET)); }

int ctap_set_iff_tap_vnet(int fd, const char *name) {
    struct ifreq ifr;
    set_name(&ifr, name);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    return result(ioctl(fd, TUNSETIFF, &ifr));
}

int ctap_get_iff_flags(int fd, unsigned *flags) {
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    int r = result(ioctl(fd, TUNGETIFF, &ifr));
    if (r == 0) *flags = (unsigned short)ifr.ifr_flags;
    return r;
}

int ctap_set_vnet_hdr_size(int fd, int size) { return result(ioctl(fd, TUNSETVNETHDRSZ, &size)); }
int ctap_get_vnet_hdr_size(int fd, int *size) { return result(ioctl(fd, TUNGETVNETHDRSZ, size)); }
int ctap_set_offload(int fd, unsigned offloads) { return result(ioctl(fd, TUNSETOFFLOAD, (unsigned long)offloads)); }

int ctap_if_index(int sock, const char *name, int *index) {
    struct ifreq ifr;
    set_name(&ifr, name);
    int r = result(ioctl(sock, SIOCGIFINDEX, &ifr));
    if (r == 0) *index = ifr.ifr_ifindex;
    return r;
}

int ctap_if_mtu(int sock, const char *name, int *mtu) {
    struct ifreq ifr;
    set_name(&ifr, name);
    int r = result(ioctl(sock, SIOCGIFMTU, &ifr));
    if (r == 0) *mtu = ifr.ifr_mtu;
    return r;
}

int ctap_if_hwaddr(int sock, const char *name, uint8_t mac[6]) {
    struct ifreq ifr;
    set_name(&ifr, name);
    int r = result(ioctl(sock, SIOCGIFHWADDR, &ifr));
    if (r == 0) memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
    return r;
}
