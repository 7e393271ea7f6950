package io.losswatch.web;

import io.vertx.core.net.HostAndPort;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Which {@code Host} a request may name: the listening address, {@code localhost}, any loopback IP literal,
 * each {@code --allow-host}, and, when listening on every interface, this machine's interface addresses.
 * This defeats DNS rebinding: a page at evil.example whose name is made to resolve to 127.0.0.1 still sends
 * {@code Host: evil.example}, so its requests and WebSocket handshakes are refused. Decided from the text,
 * never by a DNS lookup.
 */
final class HostPolicy {
  private final Set<String> names = new HashSet<>();
  private final Set<InetAddress> addresses = new HashSet<>();

  /** @param interfaces the addresses also allowed (this machine's, when the server listens on a wildcard) */
  HostPolicy(String listenHost, List<String> allowHosts, Set<InetAddress> interfaces) {
    names.add("localhost");
    if (!Hosts.wildcard(listenHost)) add(listenHost);
    for (String h : allowHosts) add(h);
    addresses.addAll(interfaces);
  }

  /** The policy for a server listening on {@code listenHost}; enumerates the interfaces once, for a wildcard. */
  static HostPolicy of(String listenHost, List<String> allowHosts) {
    return new HostPolicy(listenHost, allowHosts, Hosts.wildcard(listenHost) ? interfaceAddresses() : Set.of());
  }

  private void add(String host) {
    InetAddress ip = Hosts.literal(host);
    if (ip != null) addresses.add(ip);
    else names.add(Hosts.normal(host));
  }

  /** Whether a request naming {@code host} (the Host header's host, without the port) is answered. */
  boolean allows(String host) {
    if (host == null) return false;
    String h = Hosts.normal(host);
    if (names.contains(h)) return true;
    InetAddress ip = Hosts.literal(h);
    return ip != null && (ip.isLoopbackAddress() || addresses.contains(ip));
  }

  /**
   * Null when a request may go on, else why not: 403 when a Host (or the HTTP/2 authority) names a host not
   * allowed, else 400 without exactly one valid one. {@code hostHeaders}: every Host header; {@code authority}:
   * as Vert.x parsed it.
   */
  ApiError check(List<String> hostHeaders, HostAndPort authority) {
    for (String h : hostHeaders) {
      HostAndPort given = HostAndPort.parseAuthority(h, -1);
      if (given != null && !given.host().isEmpty() && !allows(given.host())) return forbidden(given.host());
    }
    if (authority != null && !authority.host().isEmpty() && !allows(authority.host())) return forbidden(authority.host());
    if (hostHeaders.size() > 1) return new ApiError(400, "Host: send exactly one Host header", "Host");
    if (authority == null && !hostHeaders.isEmpty()) {
      return new ApiError(400, "Host: must be host or host:port, got " + quote(hostHeaders.get(0)), "Host");
    }
    if (authority == null || authority.host().isEmpty()) {
      return new ApiError(400, "Host: a Host header is required", "Host");
    }
    return null;
  }

  private static ApiError forbidden(String host) {
    return new ApiError(403, "Host " + quote(host) + " is not allowed: this server answers requests addressed to"
        + " its listening address, localhost or a loopback address, so a page on another site cannot point its"
        + " name here (DNS rebinding); if this is a name the server is really reached by, start it with"
        + " --allow-host", "Host");
  }

  private static String quote(String s) {
    return "\"" + (s.length() <= 100 ? s : s.substring(0, 100) + "...") + "\"";
  }

  private static Set<InetAddress> interfaceAddresses() {
    Set<InetAddress> out = new HashSet<>();
    try {
      for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
        out.addAll(Collections.list(ni.getInetAddresses()));
      }
    } catch (SocketException e) {
      // none known: the loopback addresses, localhost and --allow-host still work
    }
    return out;
  }
}
