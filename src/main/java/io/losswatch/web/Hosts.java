package io.losswatch.web;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Host names and IP literals, judged from their text alone: never a DNS lookup, so a name cannot pass for
 * loopback by resolving to it ({@code 127.evil.example} is a name, not an address).
 */
public final class Hosts {
  private static final Pattern IPV4 = Pattern.compile("(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})");
  private static final Pattern IPV6 = Pattern.compile("[0-9a-f:.]*:[0-9a-f:.]*");
  private static final Pattern NAME = Pattern.compile("[a-z0-9_-]+(\\.[a-z0-9_-]+)*");

  private Hosts() {
  }

  /** Lower-cased, without IPv6 brackets and without one trailing dot: {@code [::1]} → {@code ::1}, {@code LocalHost.} → {@code localhost}. */
  public static String normal(String host) {
    String h = host.trim().toLowerCase(Locale.ROOT);
    if (h.startsWith("[") && h.endsWith("]")) h = h.substring(1, h.length() - 1);
    if (h.endsWith(".")) h = h.substring(0, h.length() - 1);
    return h;
  }

  /**
   * The address a dotted-quad IPv4 or an IPv6 literal stands for, or null for anything else (a name). Only
   * text made of hex digits, colons and dots with a colon in it reaches {@link InetAddress#getByName}, which
   * parses such text as a literal and never resolves it.
   */
  public static InetAddress literal(String host) {
    String h = normal(host);
    Matcher m = IPV4.matcher(h);
    try {
      if (m.matches()) {
        byte[] b = new byte[4];
        for (int k = 0; k < 4; k++) {
          int octet = Integer.parseInt(m.group(k + 1));
          if (octet > 255) return null;
          b[k] = (byte) octet;
        }
        return InetAddress.getByAddress(b);
      }
      return IPV6.matcher(h).matches() ? InetAddress.getByName(h) : null;
    } catch (UnknownHostException e) {
      return null;   // not a valid literal
    }
  }

  /** Exactly {@code localhost}, or a loopback IP literal (127.0.0.0/8, ::1). */
  public static boolean loopback(String host) {
    String h = normal(host);
    if (h.equals("localhost")) return true;
    InetAddress ip = literal(h);
    return ip != null && ip.isLoopbackAddress();
  }

  /** 0.0.0.0 or :: : every interface. */
  public static boolean wildcard(String host) {
    InetAddress ip = literal(host);
    return ip != null && ip.isAnyLocalAddress();
  }

  /** A DNS name (letters, digits, '-', '_', dots) or an IP literal, without a port. */
  public static boolean valid(String host) {
    String h = normal(host);
    return !h.isEmpty() && (literal(h) != null || NAME.matcher(h).matches());
  }
}
