package io.losswatch.event;

import io.vertx.core.buffer.Buffer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Reads what {@link WireOut} wrote, from a position on: Vert.x hands a codec the whole message, its body at an
 * offset. A length or count beyond the bytes left fails before anything is allocated for it.
 */
public final class WireIn {
  private final Buffer buffer;
  private int pos;

  WireIn(Buffer buffer, int pos) {
    this.buffer = buffer;
    this.pos = pos;
  }

  int pos() {
    return pos;
  }

  public int i32() {
    int v = buffer.getInt(pos);
    pos += Integer.BYTES;
    return v;
  }

  public long i64() {
    long v = buffer.getLong(pos);
    pos += Long.BYTES;
    return v;
  }

  public double f64() {
    return Double.longBitsToDouble(i64());
  }

  public String str() {
    int n = i32();
    return n == -1 ? null : new String(take(n), StandardCharsets.UTF_8);
  }

  public <E extends Enum<E>> E name(Class<E> type) {
    String n = str();
    return n == null ? null : Enum.valueOf(type, n);
  }

  public byte[] bytes() {
    return take(i32());
  }

  public long[] longs(int n) {
    long[] a = new long[n];
    ByteBuffer.wrap(take(Math.multiplyExact(n, Long.BYTES))).order(WireOut.COLUMNS).asLongBuffer().get(a);
    return a;
  }

  public double[] doubles(int n) {
    double[] a = new double[n];
    ByteBuffer.wrap(take(Math.multiplyExact(n, Double.BYTES))).order(WireOut.COLUMNS).asDoubleBuffer().get(a);
    return a;
  }

  /** An unmodifiable list, as the records' own lists are. */
  public <E> List<E> list(WireCodec.Reader<E> element) {
    int n = count();
    List<E> list = new ArrayList<>(n);
    for (int i = 0; i < n; i++) list.add(element.read(this));
    return Collections.unmodifiableList(list);
  }

  /** A count of things of a byte or more each. */
  public int count() {
    int n = i32();
    check(n);
    return n;
  }

  private byte[] take(int n) {
    check(n);
    byte[] b = buffer.getBytes(pos, pos + n);
    pos += n;
    return b;
  }

  private void check(int n) {
    if (n < 0 || n > buffer.length() - pos) {
      throw new IllegalArgumentException("a length of " + n + " with " + (buffer.length() - pos) + " bytes left");
    }
  }
}
