package io.losswatch.event;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageCodec;

/**
 * Passes an immutable object through the local event bus as is: no copy, no serialization. For the types that
 * never leave their node; those that do have a {@link WireCodec} (both registered by {@link Codecs}).
 */
public final class LocalCodec<T> implements MessageCodec<T, T> {
  private final String name;

  private LocalCodec(Class<T> type) {
    this.name = "losswatch-local-" + type.getSimpleName() + "-v1";
  }

  static <T> void register(EventBus bus, Class<T> type) {
    bus.registerDefaultCodec(type, new LocalCodec<>(type));
  }

  @Override public void encodeToWire(Buffer buffer, T t) {
    throw new UnsupportedOperationException(name + " is local only");
  }

  @Override public T decodeFromWire(int pos, Buffer buffer) {
    throw new UnsupportedOperationException(name + " is local only");
  }

  /** Immutable: the same instance reaches every consumer. */
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
