package io.losswatch.web;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A WebSocket client on a plain socket that can stop reading for good: after the handshake it only writes,
 * and its small receive buffer makes the server's side fill up fast. Nothing here reads in the background.
 */
final class RawWsClient implements AutoCloseable {
  private final Socket socket = new Socket();
  private final OutputStream out;
  private final InputStream in;

  RawWsClient(int port) throws IOException {
    socket.setReceiveBufferSize(4096);   // before connect, so the window stays small
    socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
    socket.setSoTimeout(10_000);
    out = socket.getOutputStream();
    in = socket.getInputStream();
    byte[] nonce = new byte[16];
    ThreadLocalRandom.current().nextBytes(nonce);
    out.write(("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Key: " + Base64.getEncoder().encodeToString(nonce) + "\r\nSec-WebSocket-Version: 13\r\n\r\n")
        .getBytes(StandardCharsets.US_ASCII));
    out.flush();
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {   // byte by byte: not one byte past the headers
      int b = in.read();
      if (b < 0) throw new IOException("closed during the handshake: " + head);
      head.write(b);
    }
    String status = head.toString(StandardCharsets.US_ASCII);
    if (!status.startsWith("HTTP/1.1 101")) throw new IOException("handshake refused: " + status);
  }

  /** Sends one masked text frame, as a client must. */
  void send(String text) throws IOException {
    byte[] payload = text.getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream f = new ByteArrayOutputStream(payload.length + 8);
    f.write(0x81);
    if (payload.length < 126) {
      f.write(0x80 | payload.length);
    } else {
      f.write(0x80 | 126);
      f.write(payload.length >> 8);
      f.write(payload.length & 0xff);
    }
    byte[] mask = new byte[4];
    ThreadLocalRandom.current().nextBytes(mask);
    f.write(mask);
    for (int i = 0; i < payload.length; i++) f.write(payload[i] ^ mask[i & 3]);
    out.write(f.toByteArray());
    out.flush();
  }

  /**
   * Reads (and discards) whatever the server had sent until the connection ends: true at EOF or a reset,
   * false if it is still open at the deadline.
   */
  boolean readsToTheEnd(long timeoutMs) throws IOException {
    long end = System.nanoTime() + timeoutMs * 1_000_000;
    byte[] buf = new byte[64 * 1024];
    while (System.nanoTime() < end) {
      socket.setSoTimeout((int) Math.max(1, Math.min(1000, (end - System.nanoTime()) / 1_000_000)));
      try {
        if (in.read(buf) < 0) return true;
      } catch (SocketTimeoutException e) {
        // still open: keep reading until the deadline
      } catch (SocketException e) {
        return true;   // reset by the server
      }
    }
    return false;
  }

  /**
   * Reads messages (server frames are not masked; long messages come in continuation frames) until one
   * contains {@code needle}; returns it, or null at the end of the connection or the deadline.
   */
  String readUntil(String needle, long timeoutMs) throws IOException {
    long end = System.nanoTime() + timeoutMs * 1_000_000;
    ByteArrayOutputStream message = new ByteArrayOutputStream();
    try {
      while (System.nanoTime() < end) {
        socket.setSoTimeout((int) Math.max(1, (end - System.nanoTime()) / 1_000_000));
        int b0 = readByte();
        int b1 = readByte();
        long length = b1 & 0x7f;
        if (length == 126) length = (readByte() << 8) | readByte();
        else if (length == 127) {
          length = 0;
          for (int i = 0; i < 8; i++) length = (length << 8) | readByte();
        }
        byte[] payload = in.readNBytes((int) length);
        if (payload.length < length) return null;
        int opcode = b0 & 0x0f;
        if (opcode == 8) return null;   // close
        if (opcode != 0 && opcode != 1) continue;   // ping, pong, binary
        message.write(payload);
        if ((b0 & 0x80) == 0) continue;   // more frames of this message follow
        String text = message.toString(StandardCharsets.UTF_8);
        message.reset();
        if (text.contains(needle)) return text;
      }
    } catch (SocketTimeoutException | SocketException | java.io.EOFException e) {
      return null;
    }
    return null;
  }

  private int readByte() throws IOException {
    int b = in.read();
    if (b < 0) throw new java.io.EOFException();
    return b;
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
