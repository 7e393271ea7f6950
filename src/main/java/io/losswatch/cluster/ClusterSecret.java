package io.losswatch.cluster;

import io.losswatch.core.config.SpecException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The secret every node of a cluster holds and nothing else does: from it come the key that Hazelcast
 * connections prove ({@link SecretHandshake}) and the key pair and certificate of the event bus' TLS
 * ({@link ClusterIdentity}). Keys are derived with HKDF-SHA256 (RFC 5869), one per purpose and cluster name, so
 * the same secret under another cluster name gives other keys. Never printed.
 */
public final class ClusterSecret {
  /** Characters at least: 32 base64 characters from a random source are 192 bits, out of reach of guessing. */
  static final int MIN_LENGTH = 32;
  private final byte[] prk;

  private ClusterSecret(byte[] secret) {
    prk = hmac("losswatch cluster secret".getBytes(StandardCharsets.UTF_8), secret);   // HKDF-Extract
  }

  /** The secret in a file (trailing whitespace and line ends are not part of it); {@code flag} is blamed. */
  public static ClusterSecret read(Path file, String flag) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new SpecException(flag, "cannot read " + file + ": " + (e.getMessage() == null ? e : e.getMessage()));
    }
    return of(new String(bytes, StandardCharsets.UTF_8), flag);
  }

  /** The secret given as text (an environment variable); {@code source} is blamed. */
  public static ClusterSecret of(String text, String source) {
    String s = text.strip();
    if (s.length() < MIN_LENGTH) {
      throw new SpecException(source, "the cluster secret must be at least " + MIN_LENGTH + " characters, got "
          + s.length() + " (make one with: openssl rand -base64 32)");
    }
    return new ClusterSecret(s.getBytes(StandardCharsets.UTF_8));
  }

  /** A 32-byte key for one purpose in one cluster: HKDF-Expand(secret, purpose NUL cluster). */
  byte[] key(String purpose, String cluster) {
    byte[] info = (purpose + "\0" + cluster).getBytes(StandardCharsets.UTF_8);
    byte[] block = Arrays.copyOf(info, info.length + 1);
    block[info.length] = 1;
    return hmac(prk, block);
  }

  static byte[] hmac(byte[] key, byte[]... parts) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      for (byte[] p : parts) mac.update(p);
      return mac.doFinal();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
    }
  }

  @Override
  public String toString() {
    return "ClusterSecret[hidden]";
  }
}
