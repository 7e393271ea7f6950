package io.losswatch.cluster;

import com.hazelcast.instance.EndpointQualifier;
import com.hazelcast.instance.impl.DefaultNodeContext;
import com.hazelcast.instance.impl.DefaultNodeExtension;
import com.hazelcast.instance.impl.Node;
import com.hazelcast.instance.impl.NodeExtension;
import com.hazelcast.nio.MemberSocketInterceptor;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Logger;

/**
 * Hazelcast's join check: before a byte of Hazelcast crosses a new connection, both ends prove they hold the
 * cluster's secret, by HMAC-SHA256 over two fresh nonces (a challenge-response that shows nothing of the key).
 * <pre>
 *   acceptor  → connector   "LWC1" nA
 *   connector → acceptor    "LWC1" nC HMAC(k, "connect" nA nC)     the acceptor closes unless it holds
 *   acceptor  → connector   HMAC(k, "accept" nA nC)                 the connector fails unless it holds
 * </pre>
 * The connector proves first, so a stranger who connects learns only a random nonce. The connection is then
 * Hazelcast's as before: plain and not integrity-protected (Hazelcast's open-source edition has no TLS), which is
 * why what matters travels on the event bus, under TLS ({@link ClusterIdentity}).
 *
 * <p>Hazelcast's open-source edition refuses a socket interceptor ("only available on Hazelcast Enterprise") in
 * its node extension, the one place that hands it out; {@link Context} starts a member whose extension returns this
 * one. Every member connection, and every Hazelcast client connection (same port), passes through it.
 */
final class SecretHandshake implements MemberSocketInterceptor {
  private static final Logger LOG = Logger.getLogger(SecretHandshake.class.getName());
  private static final byte[] MAGIC = "LWC1".getBytes(StandardCharsets.US_ASCII);
  private static final int NONCE = 32;
  private static final int MAC = 32;
  /** How long a peer may take over its part: a stranger who says nothing holds a Hazelcast I/O thread this long. */
  static final int TIMEOUT_MS = 5_000;
  /** Refusals are said once per this many ms at most, with how many there were. */
  private static final long QUIET_MS = 10_000;

  private final byte[] key;
  private final SecureRandom random = new SecureRandom();
  private final AtomicLong lastSaid = new AtomicLong();
  private final AtomicLong unsaid = new AtomicLong();

  SecretHandshake(byte[] key) {
    this.key = key.clone();
  }

  @Override
  public void init(Properties properties) {
    // configured in code
  }

  @Override
  public void onAccept(Socket socket) throws IOException {
    int timeout = socket.getSoTimeout();
    socket.setSoTimeout(TIMEOUT_MS);
    byte[] nA = nonce();
    try {
      send(socket, MAGIC, nA);
      byte[] hello = read(socket, MAGIC.length + NONCE + MAC);
      byte[] nC = Arrays.copyOfRange(hello, MAGIC.length, MAGIC.length + NONCE);
      if (!Arrays.equals(hello, 0, MAGIC.length, MAGIC, 0, MAGIC.length)
          || !MessageDigest.isEqual(Arrays.copyOfRange(hello, MAGIC.length + NONCE, hello.length), mac("connect", nA, nC))) {
        throw new IOException("it did not prove the cluster secret");
      }
      send(socket, mac("accept", nA, nC));
    } catch (IOException e) {
      refused("refused a cluster connection from " + socket.getRemoteSocketAddress() + ": " + reason(e)
          + " (a node with another cluster secret, or not a losswatch node)");
      throw e;
    } finally {
      socket.setSoTimeout(timeout);
    }
  }

  @Override
  public void onConnect(Socket socket) throws IOException {
    int timeout = socket.getSoTimeout();
    socket.setSoTimeout(TIMEOUT_MS);
    try {
      byte[] hello = read(socket, MAGIC.length + NONCE);
      if (!Arrays.equals(hello, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
        throw new IOException("it is not a losswatch node");
      }
      byte[] nA = Arrays.copyOfRange(hello, MAGIC.length, hello.length);
      byte[] nC = nonce();
      send(socket, MAGIC, nC, mac("connect", nA, nC));
      if (!MessageDigest.isEqual(read(socket, MAC), mac("accept", nA, nC))) {
        throw new IOException("it did not prove the cluster secret");
      }
    } catch (IOException e) {
      refused("cannot join the member at " + socket.getRemoteSocketAddress() + ": " + reason(e)
          + " (it holds another cluster secret, or is not a losswatch node)");
      throw e;
    } finally {
      socket.setSoTimeout(timeout);
    }
  }

  private static String reason(IOException e) {
    if (e instanceof java.net.SocketTimeoutException) return "it said nothing for " + TIMEOUT_MS / 1000 + " s";
    if (e instanceof java.io.EOFException) return "it closed the connection";
    return e.getMessage();
  }

  /** One line, at most once per {@link #QUIET_MS}: a node left with the wrong secret retries all the time. */
  private void refused(String message) {
    long now = System.currentTimeMillis();
    long last = lastSaid.get();
    if (now - last < QUIET_MS || !lastSaid.compareAndSet(last, now)) {
      unsaid.incrementAndGet();
      return;
    }
    long more = unsaid.getAndSet(0);
    LOG.warning(message + (more > 0 ? " [" + more + " more refused in the last " + QUIET_MS / 1000 + " s]" : ""));
  }

  private byte[] nonce() {
    byte[] n = new byte[NONCE];
    random.nextBytes(n);
    return n;
  }

  private byte[] mac(String role, byte[] nA, byte[] nC) {
    return ClusterSecret.hmac(key, role.getBytes(StandardCharsets.US_ASCII), nA, nC);
  }

  private static void send(Socket socket, byte[]... parts) throws IOException {
    OutputStream out = socket.getOutputStream();   // not closed: that would close the socket
    for (byte[] p : parts) out.write(p);
    out.flush();
  }

  private static byte[] read(Socket socket, int n) throws IOException {
    byte[] b = new byte[n];
    new DataInputStream(socket.getInputStream()).readFully(b);   // exactly n: what follows is Hazelcast's
    return b;
  }

  /** Starts a Hazelcast member whose node extension hands out this handshake (see the class comment). */
  static final class Context extends DefaultNodeContext {
    private final SecretHandshake handshake;

    Context(SecretHandshake handshake) {
      this.handshake = handshake;
    }

    @Override
    public NodeExtension createNodeExtension(Node node) {
      return new DefaultNodeExtension(node) {
        @Override
        public MemberSocketInterceptor getSocketInterceptor(EndpointQualifier endpoint) {
          return handshake;
        }
      };
    }
  }
}
