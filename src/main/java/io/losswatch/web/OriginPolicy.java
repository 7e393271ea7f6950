package io.losswatch.web;

import java.net.URI;
import java.util.List;
import java.util.Locale;

/**
 * Which pages may open the WebSocket or change runs: the server's own origin, any origin on this machine's
 * loopback (localhost, 127.0.0.0/8, [::1]) and the configured extras. A request without an Origin header
 * comes from a program, not a browser page, and is let in: the check exists to stop other sites' pages from
 * reading the stream (cross-site WebSocket hijacking) or changing runs through a visitor's browser.
 */
final class OriginPolicy {
  private final List<String> extra;

  OriginPolicy(List<String> extra) {
    this.extra = extra.stream().map(OriginPolicy::normal).toList();
  }

  boolean allows(String origin, String hostHeader) {
    if (origin == null) return true;
    String o = normal(origin);
    if (extra.contains(o)) return true;
    try {
      URI u = URI.create(o);
      String host = u.getHost();
      if (host == null) return false;
      if (Hosts.loopback(host)) return true;
      return hostHeader != null && u.getAuthority() != null && u.getAuthority().equalsIgnoreCase(hostHeader);
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private static String normal(String origin) {
    String o = origin.trim().toLowerCase(Locale.ROOT);
    return o.endsWith("/") ? o.substring(0, o.length() - 1) : o;
  }
}
