package io.losswatch.event;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;

/**
 * An immutable event's codec for the clustered event bus: a compact binary form when it crosses to another node,
 * and the very same instance for every consumer on this one (no copy, no serialization: the hot path, a batch per
 * slice per run, must not pay for either on every delivery). The name carries
 * the format's version: change the layout, bump it, and nodes of the old and new layout refuse each other's
 * messages instead of misreading them.
 */
public final class WireCodec<T> implements MessageCodec<T, T> {
  /** Writes one value; its {@link Reader} reads the same fields in the same order. */
  @FunctionalInterface
  public interface Writer<T> {
    void write(WireOut out, T value);
  }

  @FunctionalInterface
  public interface Reader<T> {
    T read(WireIn in);
  }

  private final Class<T> type;
  private final String name;
  private final Writer<T> writer;
  private final Reader<T> reader;

  WireCodec(Class<T> type, Writer<T> writer, Reader<T> reader) {
    this(type, 1, writer, reader);
  }

  /** {@code version}: its layout's, in its name. */
  WireCodec(Class<T> type, int version, Writer<T> writer, Reader<T> reader) {
    this.type = type;
    this.name = "losswatch-" + type.getSimpleName() + "-v" + version;
    this.writer = writer;
    this.reader = reader;
  }

  /** A codec for a type that never leaves its node: passed by reference, refused on the wire. */
  static <T> WireCodec<T> local(Class<T> type) {
    return new WireCodec<>(type, (out, t) -> {
      throw new UnsupportedOperationException(type.getSimpleName() + " stays on its node");
    }, in -> {
      throw new UnsupportedOperationException(type.getSimpleName() + " stays on its node");
    });
  }

  public Class<T> type() {
    return type;
  }

  @Override public void encodeToWire(Buffer buffer, T t) {
    writer.write(new WireOut(buffer), t);
  }

  @Override public T decodeFromWire(int pos, Buffer buffer) {
    return reader.read(new WireIn(buffer, pos));
  }

  /** {@code t} as the bytes a cluster hop carries (benchmarks, tests). */
  public Buffer encode(T t) {
    Buffer b = Buffer.buffer();
    encodeToWire(b, t);
    return b;
  }

  /** What {@link #encode} wrote, which must be all of {@code b}. */
  public T decode(Buffer b) {
    WireIn in = new WireIn(b, 0);
    T t = reader.read(in);
    if (in.pos() != b.length()) throw new IllegalArgumentException(name + ": " + (b.length() - in.pos()) + " bytes left over");
    return t;
  }

  /** Immutable: the same instance reaches every consumer on this node. */
  @Override public T transform(T t) {
    return t;
  }

  @Override public String name() {
    return name;
  }

  @Override public byte systemCodecID() {
    return -1;
  }
}
