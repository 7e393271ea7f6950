package io.losswatch.cluster;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.JksOptions;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.EdECPrivateKey;
import java.security.spec.NamedParameterSpec;
import java.util.Arrays;

/**
 * The one TLS identity every node of a cluster shares, derived from its secret: an Ed25519 key pair whose private
 * key is 32 bytes of the secret's HKDF, and a self-signed certificate over it. Ed25519 signatures are deterministic
 * (RFC 8032), and the certificate's every field is fixed, so every node builds the same certificate byte for byte:
 * it is the only one the event bus trusts, on both ends of a connection. Nothing is written to disk.
 */
final class ClusterIdentity {
  /**
   * The in-memory keystores' password. They never leave the process, so it protects nothing and is no secret;
   * and they are JKS, whose key protection is cheap, where PKCS#12's 10,000-round PBKDF2 (for the key, the
   * certificates and the MAC, at every store and load) cost half a second of CPU at each start.
   */
  private static final String PASSWORD = "losswatch";
  private static final byte[] ED25519 = {0x06, 0x03, 0x2b, 0x65, 0x70};     // OID 1.3.101.112
  private static final byte[] COMMON_NAME = {0x06, 0x03, 0x55, 0x04, 0x03};  // OID 2.5.4.3

  private final KeyPair keys;
  private final X509Certificate certificate;

  ClusterIdentity(ClusterSecret secret, String cluster) {
    byte[] seed = secret.key("event bus ed25519", cluster);
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("Ed25519");
      g.initialize(NamedParameterSpec.ED25519, new Seed(seed));
      keys = g.generateKeyPair();
      // the JDK draws an Ed25519 private key as exactly 32 random bytes; make sure they were the seed's
      if (!Arrays.equals(((EdECPrivateKey) keys.getPrivate()).getBytes().orElse(null), seed)) {
        throw new IllegalStateException("this JDK's Ed25519 key generation does not take its key from the random"
            + " source as RFC 8032 describes: the cluster identity cannot be derived here");
      }
      certificate = selfSigned("losswatch cluster " + cluster);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("Ed25519 is part of every JDK since 15", e);
    }
  }

  X509Certificate certificate() {
    return certificate;
  }

  /** The key and its certificate, what this node shows the other end of every event-bus connection. */
  JksOptions keyStore() {
    return store(ks -> ks.setKeyEntry("cluster", keys.getPrivate(), PASSWORD.toCharArray(),
        new Certificate[] {certificate}));
  }

  /** The certificate alone: the only one this node accepts from the other end. */
  JksOptions trustStore() {
    return store(ks -> ks.setCertificateEntry("cluster", certificate));
  }

  private interface Filler {
    void fill(KeyStore ks) throws GeneralSecurityException;
  }

  private static JksOptions store(Filler filler) {
    try {
      KeyStore ks = KeyStore.getInstance("JKS");
      ks.load(null, null);
      filler.fill(ks);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ks.store(out, PASSWORD.toCharArray());
      return new JksOptions().setPassword(PASSWORD).setValue(Buffer.buffer(out.toByteArray()));
    } catch (Exception e) {
      throw new IllegalStateException("cannot build an in-memory keystore", e);
    }
  }

  /** A v3 certificate, issuer = subject = CN, valid from 2000 with no end (RFC 5280 4.1.2.5), serial 1. */
  private X509Certificate selfSigned(String name) throws GeneralSecurityException {
    byte[] dn = seq(tlv(0x31, seq(COMMON_NAME, tlv(0x0c, name.getBytes(StandardCharsets.UTF_8)))));
    byte[] algorithm = seq(ED25519);
    byte[] tbs = seq(
        tlv(0xa0, tlv(0x02, new byte[] {2})),   // version: v3
        tlv(0x02, new byte[] {1}),              // serial
        algorithm,
        dn,
        seq(tlv(0x17, ascii("000101000000Z")), tlv(0x18, ascii("99991231235959Z"))),
        dn,
        keys.getPublic().getEncoded());         // SubjectPublicKeyInfo, as X.509 encodes it
    Signature signer = Signature.getInstance("Ed25519");
    signer.initSign(keys.getPrivate());
    signer.update(tbs);
    byte[] signature = signer.sign();
    byte[] bits = new byte[signature.length + 1];   // a BIT STRING: no unused bits, then the signature
    System.arraycopy(signature, 0, bits, 1, signature.length);
    byte[] der = seq(tbs, algorithm, tlv(0x03, bits));
    return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der));
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  private static byte[] seq(byte[]... parts) {
    return tlv(0x30, parts);
  }

  /** A DER tag-length-value: the length in short form below 128, else in one or two bytes. */
  private static byte[] tlv(int tag, byte[]... parts) {
    int n = 0;
    for (byte[] p : parts) n += p.length;
    ByteArrayOutputStream out = new ByteArrayOutputStream(n + 4);
    out.write(tag);
    if (n < 0x80) {
      out.write(n);
    } else if (n < 0x100) {
      out.write(0x81);
      out.write(n);
    } else {
      out.write(0x82);
      out.write(n >> 8);
      out.write(n & 0xff);
    }
    for (byte[] p : parts) out.writeBytes(p);
    return out.toByteArray();
  }

  /** A "random" source that yields the seed: how the JDK's generator is given the private key to use. */
  private static final class Seed extends SecureRandom {
    private final byte[] seed;

    Seed(byte[] seed) {
      this.seed = seed;
    }

    @Override
    public void nextBytes(byte[] bytes) {
      if (bytes.length != seed.length) throw new IllegalStateException("asked for " + bytes.length + " bytes");
      System.arraycopy(seed, 0, bytes, 0, bytes.length);
    }
  }
}
