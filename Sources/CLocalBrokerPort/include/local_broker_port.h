#ifndef SCFM_LOCAL_BROKER_PORT_H
#define SCFM_LOCAL_BROKER_PORT_H

/// The next bind() of a loopback IPv4 socket to port 0 in this process binds to `port` instead (once).
/// librdkafka's mock cluster always listens on a port the kernel picks; `Workers broker --port` uses this so
/// that a local broker restarted after a crash is found at the same address by every running client, as a
/// Kafka broker would be. Linked into the Workers executable only.
void scfm_local_broker_port_set(unsigned short port);

#endif
