package io.losswatch.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.net.HostAndPort;
import java.net.InetAddress;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Which Host a request may name, without a server (the real server's answers: HostileRequestIT). */
class HostPolicyTest {
  @Test
  void loopbackListenerAllowsLoopbackNamesAndTheAllowedHosts() {
    HostPolicy p = new HostPolicy("127.0.0.1", List.of("losswatch"), Set.of());
    for (String ok : List.of("localhost", "LocalHost", "localhost.", "127.0.0.1", "127.0.0.2", "[::1]", "::1",
        "[0:0:0:0:0:0:0:1]", "losswatch", "LOSSWATCH.")) {
      assertTrue(p.allows(ok), ok);
    }
    for (String no : List.of("evil.example", "127.evil.example", "localhost.evil.example", "losswatch.evil.example",
        "10.0.0.1", "0.0.0.0", "", "127.1", "2130706433", "[::2]")) {
      assertFalse(p.allows(no), no);
    }
  }

  @Test
  void aNamedOrAddressedListenerAllowsItself() {
    assertTrue(new HostPolicy("monitor.lan", List.of(), Set.of()).allows("Monitor.Lan"));
    HostPolicy ip = new HostPolicy("192.168.1.5", List.of(), Set.of());
    assertTrue(ip.allows("192.168.1.5"));
    assertFalse(ip.allows("192.168.1.6"));
  }

  @Test
  void aWildcardListenerAllowsThisMachinesAddressesButNotTheWildcard() throws Exception {
    HostPolicy p = new HostPolicy("0.0.0.0", List.of(), Set.of(InetAddress.getByName("192.168.1.5"),
        InetAddress.getByName("fe80::1")));
    assertTrue(p.allows("192.168.1.5"));
    assertTrue(p.allows("[fe80:0::1]"));
    assertFalse(p.allows("0.0.0.0"));
    assertFalse(p.allows("192.168.1.6"));
    assertTrue(HostPolicy.of("::", List.of()).allows("localhost"));
  }

  @Test
  void aRequestNeedsExactlyOneValidHost() {
    HostPolicy p = new HostPolicy("127.0.0.1", List.of(), Set.of());
    assertNull(p.check(List.of("localhost:8080"), HostAndPort.create("localhost", 8080)));
    ApiError e = p.check(List.of("evil.example"), HostAndPort.create("evil.example", -1));
    assertEquals(403, e.status);
    assertEquals("Host", e.field);
    assertTrue(e.getMessage().startsWith("Host \"evil.example\" is not allowed"), e.getMessage());
    assertTrue(e.getMessage().contains("--allow-host"), e.getMessage());
    assertEquals(400, p.check(List.of(), null).status);
    assertEquals(400, p.check(List.of("a b"), null).status);
    assertEquals(403, p.check(List.of("localhost", "evil.example"), HostAndPort.create("localhost", -1)).status,
        "a foreign Host anywhere is refused as such");
    assertEquals(400, p.check(List.of("localhost", "127.0.0.1"), HostAndPort.create("localhost", -1)).status);
    assertEquals(400, p.check(List.of(""), HostAndPort.create("", -1)).status);
  }
}
