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
}
