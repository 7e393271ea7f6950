package io.losswatch.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.core.config.SpecException;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The flags that decide who can reach the server and change it. */
class ServerConfigTest {
  private static ServerConfig parse(String... args) {
    return ServerConfig.parse(args, null);
  }

  @Test
  void anEmptyTokenIsRefusedABlankEnvironmentTokenIgnored() {
    for (String[] args : List.of(new String[] {"--token", ""}, new String[] {"--token="}, new String[] {"--token", "  "})) {
      SpecException e = assertThrows(SpecException.class, () -> parse(args));
      assertEquals("--token: must not be empty", e.getMessage());
    }
    assertNull(ServerConfig.parse(new String[0], " ").token(), "LOSSWATCH_TOKEN blank: no token");
    assertThrows(SpecException.class, () -> ServerConfig.parse(new String[] {"--host", "0.0.0.0"}, ""),
        "a blank LOSSWATCH_TOKEN does not expose a server");
    assertEquals("s", parse("--token", "s").token());
  }

  @Test
  void publicReadIsAFlagOffByDefault() {
    assertFalse(parse("--token", "t").publicRead(), "with a token, reads need it");
    assertTrue(parse("--token", "t", "--public-read").publicRead());
    assertTrue(parse("--public-read", "--token=t").publicRead());
  }

  @ParameterizedTest
  @ValueSource(strings = {"localhost", "LOCALHOST", "127.0.0.1", "127.0.0.2", "127.255.255.254", "::1", "[::1]",
      "0:0:0:0:0:0:0:1"})
  void loopbackIsLocalhostOrALoopbackLiteral(String host) {
    assertTrue(parse("--host", host).loopback(), host);
  }

  @ParameterizedTest
  @ValueSource(strings = {"127.evil.example", "127.0.0.1.evil.example", "localhost.evil.example", "127.0.0.256",
      "0.0.0.0", "::", "10.0.0.1", "evil.example", "127.1", "::2"})
  void anythingElseIsNotLoopbackAndNeedsAToken(String host) {
    assertFalse(parse("--host", host, "--insecure").loopback(), host);
    SpecException e = assertThrows(SpecException.class, () -> parse("--host", host));
    assertTrue(e.getMessage().startsWith("--host: " + host + " is reachable from other machines"), e.getMessage());
  }

  @Test
  void allowHostIsRepeatableAndNeedsAHostWithoutAPort() {
    assertEquals(List.of("losswatch", "monitor.lan", "10.0.0.7", "::1"),
        parse("--allow-host", "losswatch", "--allow-host=Monitor.LAN.", "--allow-host", "10.0.0.7",
            "--allow-host", "[::1]").allowedHosts());
    for (String bad : List.of("", "losswatch:8080", "http://losswatch", "a b", "*")) {
      SpecException e = assertThrows(SpecException.class, () -> parse("--allow-host", bad), bad);
      assertTrue(e.getMessage().startsWith("--allow-host: must be a host name or an IP address, without a port"),
          e.getMessage());
    }
  }

  @Test
  void withoutClusterNoHazelcastStarts() {
    assertNull(parse().cluster());
  }

  @Test
  void aClusterWithoutANameIsLosswatchNotHazelcastsDefault() {
    assertEquals("losswatch", parse("--cluster").cluster().name());
  }

  @Test
  void aClusterNodeNamesItsClusterAndListsItsMembers() {
    var c = parse("--cluster", "--cluster-name", "team", "--cluster-port", "5801",
        "--cluster-members", "10.0.0.1:5801, 10.0.0.2:5801").cluster();
    assertEquals("team", c.name());
    assertEquals("127.0.0.1", c.host());
    assertEquals(List.of("10.0.0.1:5801", "10.0.0.2:5801"), c.members());
    assertEquals("127.0.0.1-5801", c.node(), "a node's default name: its cluster address");
    var hz = c.hazelcast();
    assertEquals("team", hz.getClusterName());
    assertFalse(hz.getNetworkConfig().getJoin().getMulticastConfig().isEnabled(), "no multicast");
    assertFalse(hz.getNetworkConfig().isPortAutoIncrement(), "no wandering into a neighbour's port");
    assertEquals("5", hz.getProperty("hazelcast.max.no.heartbeat.seconds"));
  }

  /** Settings under which two clusters could merge, or a node could join one it was not meant for, stop the start. */
  @ParameterizedTest
  @ValueSource(strings = {
      "--cluster --cluster-name=|--cluster-name: must be 1 to 64",
      "--cluster --cluster-name dev|--cluster-name: must not be dev",
      "--cluster --cluster-name a/b|--cluster-name: must be 1 to 64",
      "--cluster-name team|--cluster-name: needs --cluster",
      "--cluster-members 10.0.0.1:5701|--cluster-members: needs --cluster",
      "--cluster --cluster-name team --cluster-members 10.0.0.1|--cluster-members: must be host:port",
      "--cluster --cluster-name team --cluster-members 10.0.0.1:99999|--cluster-members: must be host:port",
      "--cluster --cluster-name team --cluster-port 0|--cluster-port: must be an integer in [1, 65535]",
      "--cluster --cluster-name team --cluster-host 0.0.0.0|--cluster-host: must be this node's own address",
      "--cluster --cluster-name team --node-name a:b|--node-name: must be 1 to 64"})
  void splitSettingsAreRefused(String c) {
    String[] parts = c.split("\\|");
    SpecException e = assertThrows(SpecException.class, () -> parse(parts[0].split(" ")));
    assertTrue(e.getMessage().startsWith(parts[1]), e.getMessage());
  }
}
