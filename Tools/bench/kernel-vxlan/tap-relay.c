/* tap-relay: the ceiling of the kernel-VXLAN topology. Attaches to the taps of two network
 * namespaces with the 24-byte virtio-net header and the same offloads tunnelpmd asks for, and
 * copies every frame with its header unchanged from one to the other: no parsing, no mbufs.
 *
 *   tap-relay <ns-a> <tap-a> <ns-b> <tap-b> <TUNSETOFFLOAD bits>[,<bits of tap b>] <seconds> [napi-b]
 *
 * Different bits per tap make one side send MTU-sized segments (the coalescing case); napi-b
 * attaches tap b with IFF_NAPI, so the kernel runs its own GRO on what the relay writes to it.
 * Runs until SIGINT/SIGTERM or <seconds>; prints frames and bytes relayed each way. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#ifndef TUN_F_UDP_TUNNEL_GSO
#define TUN_F_UDP_TUNNEL_GSO 0x080
#define TUN_F_UDP_TUNNEL_GSO_CSUM 0x100
#endif

static volatile sig_atomic_t stop;
static void on_signal(int number) { (void)number; stop = 1; }

static void die(const char *what) {
    fprintf(stderr, "tap-relay: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* Opens `tap` inside namespace `ns`, then returns to the namespace we came from. */
static int attach(const char *ns, const char *tap, unsigned long offloads, int napi) {
    char path[256];
    snprintf(path, sizeof path, "/var/run/netns/%s", ns);
    int home = open("/proc/self/ns/net", O_RDONLY);
    int target = open(path, O_RDONLY);
    if (home < 0 || target < 0) die(path);
    if (setns(target, CLONE_NEWNET) < 0) die("setns");
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK);
    if (fd < 0) die("/dev/net/tun");
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | (napi ? IFF_NAPI : 0);
    strncpy(ifr.ifr_name, tap, IFNAMSIZ - 1);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) die("TUNSETIFF");
    int size = 24;
    if (ioctl(fd, TUNSETVNETHDRSZ, &size) < 0) die("TUNSETVNETHDRSZ");
    if (ioctl(fd, TUNSETOFFLOAD, offloads) < 0) die("TUNSETOFFLOAD");
    if (setns(home, CLONE_NEWNET) < 0) die("setns back");
    close(home);
    close(target);
    return fd;
}

int main(int argc, char **argv) {
    if (argc != 7 && !(argc == 8 && strcmp(argv[7], "napi-b") == 0)) {
        fprintf(stderr, "usage: %s <ns-a> <tap-a> <ns-b> <tap-b> <offload bits>[,<bits of b>] <seconds> [napi-b]\n", argv[0]);
        return 2;
    }
    char *rest = NULL;
    unsigned long offloads = strtoul(argv[5], &rest, 0);
    unsigned long offloadsB = (rest && *rest == ',') ? strtoul(rest + 1, NULL, 0) : offloads;
    double seconds = atof(argv[6]);
    int fds[2] = {attach(argv[1], argv[2], offloads, 0), attach(argv[3], argv[4], offloadsB, argc == 8)};
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    static unsigned char buffer[24 + 65536 + 4096];
    unsigned long long frames[2] = {0, 0}, bytes[2] = {0, 0};
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    struct pollfd polls[2] = {{.fd = fds[0], .events = POLLIN}, {.fd = fds[1], .events = POLLIN}};
    printf("relaying\n");
    fflush(stdout);
    while (!stop) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec + (now.tv_nsec - start.tv_nsec) / 1e9 > seconds) break;
        if (poll(polls, 2, 100) <= 0) continue;
        for (int side = 0; side < 2; side++) {
            for (int burst = 0; burst < 64; burst++) {
                ssize_t n = read(fds[side], buffer, sizeof buffer);
                if (n <= 0) break;
                if (write(fds[1 - side], buffer, (size_t)n) == n) {
                    frames[side]++;
                    bytes[side] += (unsigned long long)n;
                }
            }
        }
    }
    printf("a->b %llu frames %llu bytes, b->a %llu frames %llu bytes\n", frames[0], bytes[0], frames[1], bytes[1]);
    return 0;
}
