// Interposes bind(2) for the Workers executable: the executable's definition is found before libc's by the
// dynamic linker, also for librdkafka's calls. Every call passes straight through to libc's bind unless a port
// was asked for with scfm_local_broker_port_set, and then only the next loopback bind to port 0 is changed.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include "local_broker_port.h"

static _Atomic unsigned short wanted_port;

void scfm_local_broker_port_set(unsigned short port) {
    atomic_store(&wanted_port, port);
}

int bind(int fd, const struct sockaddr *address, socklen_t length) {
    static int (*libc_bind)(int, const struct sockaddr *, socklen_t);
    if (!libc_bind) {
        libc_bind = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "bind");
    }
    unsigned short port = atomic_load(&wanted_port);
    if (port != 0 && address != NULL && address->sa_family == AF_INET && length >= sizeof(struct sockaddr_in)) {
        struct sockaddr_in changed = *(const struct sockaddr_in *)address;
        if (changed.sin_port == 0 && changed.sin_addr.s_addr == htonl(INADDR_LOOPBACK)
            && atomic_compare_exchange_strong(&wanted_port, &port, 0)) {
            changed.sin_port = htons(port);
            return libc_bind(fd, (const struct sockaddr *)&changed, sizeof changed);
        }
    }
    return libc_bind(fd, address, length);
}
