package io.losswatch.event;

import io.vertx.core.buffer.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Appends values to a wire buffer; {@link WireIn} reads them back in the same order. Scalars are big-endian
 * (Buffer's own order), doubles as raw bits so NaN payloads and signed zeros survive; a string's length is
 * -1 for null. Columns are little-endian: on x86 and ARM their bulk copy is a plain memory copy.
 */
public final class WireOut {
  static final ByteOrder COLUMNS = ByteOrder.LITTLE_ENDIAN;
  private final Buffer buffer;

  WireOut(Buffer buffer) {
    this.buffer = buffer;
  }

  public WireOut i32(int v) {
    buffer.appendInt(v);
    return this;
  }

  public WireOut i64(long v) {
    buffer.appendLong(v);
    return this;
  }

  public WireOut f64(double v) {
    buffer.appendLong(Double.doubleToRawLongBits(v));
    return this;
  }

  /** UTF-8 after its byte length, or just -1 for null. */
  public WireOut str(String s) {
    if (s == null) return i32(-1);
    return bytes(s.getBytes(StandardCharsets.UTF_8));
  }

  /** A constant by name, not ordinal: nodes of different versions may order or extend an enum differently. */
  public WireOut name(Enum<?> e) {
    return str(e == null ? null : e.name());
  }

  public WireOut bytes(byte[] b) {
    buffer.appendInt(b.length).appendBytes(b);
    return this;
  }

  /** A column of known length (the reader is told it): 8 bytes a value, no length of its own. */
  public WireOut longs(long[] a) {
    byte[] b = new byte[a.length * Long.BYTES];
    ByteBuffer.wrap(b).order(COLUMNS).asLongBuffer().put(a);
    buffer.appendBytes(b);
    return this;
  }

  public WireOut doubles(double[] a) {
    byte[] b = new byte[a.length * Double.BYTES];
    ByteBuffer.wrap(b).order(COLUMNS).asDoubleBuffer().put(a);
    buffer.appendBytes(b);
    return this;
  }

  public <E> WireOut list(List<E> list, WireCodec.Writer<E> element) {
    i32(list.size());
    for (E e : list) element.write(this, e);
    return this;
  }
}
