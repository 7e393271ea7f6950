package io.losswatch.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.core.config.SpecException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * What the cluster's secret gives, without a cluster: the same certificate on every node and none from another
 * secret or cluster name, and a join check that lets through only an end holding the same key.
 */
class ClusterSecretTest {
  private static final ClusterSecret SECRET = ClusterSecret.of("Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE=", "t");
  private static final ClusterSecret OTHER = ClusterSecret.of("YW5vdGhlciBzZWNyZXQgb2YgZW5vdWdoIGxlbmd0aA==", "t");

  @Test
  void everyNodeDerivesTheSameCertificateAndNoOtherSecretOrClusterDoes() throws Exception {
    X509Certificate one = new ClusterIdentity(SECRET, "team").certificate();
    X509Certificate again = new ClusterIdentity(ClusterSecret.of("Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE=\n", "t"),
        "team").certificate();
    assertArrayEquals(one.getEncoded(), again.getEncoded(), "byte for byte, a line end in the file aside");
    assertFalse(java.util.Arrays.equals(one.getEncoded(), new ClusterIdentity(OTHER, "team").certificate().getEncoded()));
    assertFalse(java.util.Arrays.equals(one.getEncoded(), new ClusterIdentity(SECRET, "other").certificate().getEncoded()),
        "the same secret under another cluster name is another identity");
    one.verify(one.getPublicKey());   // self-signed, and valid as X.509 says
    one.checkValidity();
    assertEquals("CN=losswatch cluster team", one.getSubjectX500Principal().getName());
    assertEquals("Ed25519", one.getSigAlgName());
  }

  @Test
  void theKeystoresHoldTheKeyAndTrustOnlyTheClustersCertificate() throws Exception {
    ClusterIdentity id = new ClusterIdentity(SECRET, "team");
    KeyStore keys = load(id.keyStore().getValue().getBytes(), id.keyStore().getPassword());
    assertEquals(java.util.List.of("cluster"), java.util.Collections.list(keys.aliases()));
    assertTrue(keys.isKeyEntry("cluster"));
    KeyStore trust = load(id.trustStore().getValue().getBytes(), id.trustStore().getPassword());
    assertEquals(java.util.List.of("cluster"), java.util.Collections.list(trust.aliases()));
    assertTrue(trust.isCertificateEntry("cluster"), "the truststore holds a certificate, no key");
    assertEquals(id.certificate(), trust.getCertificate("cluster"));
  }

  private static KeyStore load(byte[] bytes, String password) throws Exception {
    KeyStore ks = KeyStore.getInstance("JKS");
    ks.load(new java.io.ByteArrayInputStream(bytes), password.toCharArray());
    return ks;
  }

  @Test
  void aShortSecretIsRefusedAndNoSecretIsEverPrinted() {
    SpecException e = assertThrows(SpecException.class, () -> ClusterSecret.of(" " + "x".repeat(31) + "\n", "X"));
    assertEquals("X: the cluster secret must be at least 32 characters, got 31 (make one with: openssl rand -base64 32)",
        e.getMessage());
    assertEquals("ClusterSecret[hidden]", SECRET.toString());
  }

  @Test
  void theJoinCheckLetsThroughOnlyTheSameKey() throws Exception {
    byte[] key = SECRET.key("hazelcast join", "team");
    assertEquals("", handshake(new SecretHandshake(key), new SecretHandshake(key)), "both ends hold it");
    String wrong = handshake(new SecretHandshake(key), new SecretHandshake(OTHER.key("hazelcast join", "team")));
    assertTrue(wrong.startsWith("accept: it did not prove the cluster secret | connect: "), wrong);
    assertTrue(handshake(new SecretHandshake(key), new SecretHandshake(SECRET.key("hazelcast join", "other")))
        .startsWith("accept: it did not prove"), "another cluster's name, the same secret");
  }

  @Test
  void aStrangerSpeakingHazelcastIsRefusedAtOnce() throws Exception {
    SecretHandshake check = new SecretHandshake(SECRET.key("hazelcast join", "team"));
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      CompletableFuture<String> accepted = CompletableFuture.supplyAsync(() -> {
        try (Socket s = server.accept()) {
          check.onAccept(s);
          return "accepted";
        } catch (IOException e) {
          return e.getMessage();
        }
      });
      try (Socket stranger = new Socket(server.getInetAddress(), server.getLocalPort())) {
        OutputStream out = stranger.getOutputStream();
        // Hazelcast's member protocol, then as many bytes as the check reads (more unread would reset the connection)
        out.write(("HZC" + "x".repeat(65)).getBytes(StandardCharsets.US_ASCII));
        out.flush();
        assertEquals("it did not prove the cluster secret", accepted.get(10, TimeUnit.SECONDS));
        byte[] hello = stranger.getInputStream().readNBytes(36);
        assertEquals("LWC1", new String(hello, 0, 4, StandardCharsets.US_ASCII), "all it learns: a nonce");
        assertEquals(-1, stranger.getInputStream().read(), "and the connection closes");
      }
    }
  }

  /** Runs the check over a real loopback connection: "" if both ends pass, else what each end said. */
  private static String handshake(SecretHandshake acceptor, SecretHandshake connector) throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      CompletableFuture<String> accepted = CompletableFuture.supplyAsync(() -> {
        try (Socket s = server.accept()) {
          acceptor.onAccept(s);
          return "";
        } catch (IOException e) {
          return "accept: " + e.getMessage();
        }
      });
      String connected;
      try (Socket s = new Socket(server.getInetAddress(), server.getLocalPort())) {
        connector.onConnect(s);
        connected = "";
      } catch (IOException e) {
        connected = "connect: " + e.getMessage();
      }
      String a;
      try {
        a = accepted.get(10, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        a = String.valueOf(e.getCause());
      }
      return a.isEmpty() && connected.isEmpty() ? "" : a + " | " + connected;
    }
  }
}
