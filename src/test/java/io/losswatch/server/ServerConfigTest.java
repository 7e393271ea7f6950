package io.losswatch.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.cli.ServeOptions;
import io.losswatch.core.config.SpecException;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The flags that decide who can reach the server and change it. */
class ServerConfigTest {
  /** A cluster secret as LOSSWATCH_CLUSTER_SECRET could hold it. */
  private static final String SECRET = "9f3c1b7a2e8d4f60b5a1c3e7d9f20486";

  private static ServerConfig parse(String... args) {
    return ServeOptions.parse(args, null);
  }

  private static ServerConfig clustered(String... args) {
    return ServeOptions.parse(args, null, SECRET);
  }

  @Test
  void anEmptyTokenIsRefusedABlankEnvironmentTokenIgnored() {
    for (String[] args : List.of(new String[] {"--token", ""}, new String[] {"--token="}, new String[] {"--token", "  "})) {
      SpecException e = assertThrows(SpecException.class, () -> parse(args));
      assertEquals("--token: must not be empty", e.getMessage());
    }
    assertNull(ServeOptions.parse(new String[0], " ").token(), "LOSSWATCH_TOKEN blank: no token");
    assertThrows(SpecException.class, () -> ServeOptions.parse(new String[] {"--host", "0.0.0.0"}, ""),
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
    assertEquals("losswatch", clustered("--cluster").cluster().name());
  }

  @Test
  void aClusterNodeNamesItsClusterAndListsItsMembers() {
    var c = clustered("--cluster", "--cluster-name", "team", "--cluster-port", "5801",
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
    // Hazelcast on this node's address only, each connection proving the secret first
    assertEquals(List.of("127.0.0.1"), List.copyOf(hz.getNetworkConfig().getInterfaces().getInterfaces()));
    assertEquals("false", hz.getProperty("hazelcast.socket.bind.any"));
    assertTrue(hz.getNetworkConfig().getSocketInterceptorConfig().isEnabled(), "the join check");
    // the event bus on that address under TLS, the other end's certificate required
    var bus = c.eventBus(new io.vertx.core.eventbus.EventBusOptions());
    assertEquals("127.0.0.1", bus.getHost());
    assertTrue(bus.isSsl());
    assertEquals(io.vertx.core.http.ClientAuth.REQUIRED, bus.getClientAuth());
    assertEquals(java.util.Set.of("TLSv1.3"), bus.getEnabledSecureTransportProtocols());
    assertFalse(bus.isTrustAll());
  }

  /** Issue 19.19: no cluster without a secret, from a file (or the environment), never too short to be guessed. */
  @Test
  void aClusterNodeNeedsTheClustersSecret(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    SpecException none = assertThrows(SpecException.class, () -> parse("--cluster"));
    assertTrue(none.getMessage().startsWith("--cluster-secret-file: is required with --cluster (or LOSSWATCH_CLUSTER_SECRET)"),
        none.getMessage());
    assertThrows(SpecException.class, () -> ServeOptions.parse(new String[] {"--cluster"}, null, "  "),
        "a blank LOSSWATCH_CLUSTER_SECRET is none");
    SpecException shortEnv = assertThrows(SpecException.class, () -> ServeOptions.parse(new String[] {"--cluster"}, null, "abc"));
    assertEquals("LOSSWATCH_CLUSTER_SECRET: the cluster secret must be at least 32 characters, got 3"
        + " (make one with: openssl rand -base64 32)", shortEnv.getMessage());
    java.nio.file.Path file = dir.resolve("cluster.secret");
    java.nio.file.Files.writeString(file, "short\n");
    SpecException shortFile = assertThrows(SpecException.class, () -> parse("--cluster", "--cluster-secret-file", file.toString()));
    assertTrue(shortFile.getMessage().startsWith("--cluster-secret-file: the cluster secret must be at least 32"
        + " characters, got 5"), shortFile.getMessage());
    SpecException missing = assertThrows(SpecException.class,
        () -> parse("--cluster", "--cluster-secret-file", dir.resolve("nothing").toString()));
    assertTrue(missing.getMessage().startsWith("--cluster-secret-file: cannot read " + dir.resolve("nothing")),
        missing.getMessage());
    SpecException alone = assertThrows(SpecException.class, () -> parse("--cluster-secret-file", file.toString()));
    assertEquals("--cluster-secret-file: needs --cluster", alone.getMessage());
    // a file, its line end not part of the secret; it wins over the environment (here a secret too short to use)
    java.nio.file.Files.writeString(file, SECRET + "\n");
    ServerConfig c = ServeOptions.parse(new String[] {"--cluster", "--cluster-secret-file", file.toString()}, null, "abc");
    assertTrue(c.cluster().secret() != null);
    assertFalse(c.toString().contains(SECRET), "the secret is never printed: " + c);
    assertFalse(clustered("--cluster").toString().contains(SECRET));
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
