package io.losswatch.event;

import io.vertx.core.eventbus.EventBus;
import java.util.List;

/**
 * Every event type's codec, registered once per Vert.x instance (on every node of a cluster alike). All pass
 * their instance as is within a node; those that cross nodes have a binary wire format ({@link Formats}).
 */
public final class Codecs {
  private static final List<WireCodec<?>> WIRE = List.of(
      new WireCodec<>(StepBatch.class, 2, Formats::stepBatch, Formats::stepBatch),   // v2: sharpness, stability
      new WireCodec<>(RunSummary.class, 2, Formats::runSummary, Formats::runSummary),   // v2: curvature, a script's report
      new WireCodec<>(RunCommand.class, Formats::runCommand, Formats::runCommand),
      new WireCodec<>(Alert.class, Formats::alert, Formats::alert),
      new WireCodec<>(Append.class, 2, Formats::append, Formats::append),   // v2: cycles, probes' outcomes, curvature
      new WireCodec<>(Appended.class, 2, Formats::appended, Formats::appended),   // v2: skipped, stop reasons, rewinds
      new WireCodec<>(Finish.class, Formats::finish, Formats::finish),
      new WireCodec<>(Fork.class, Formats::fork, Formats::fork),
      new WireCodec<>(ClusterSummary.class, Formats::clusterSummary, Formats::clusterSummary),
      new WireCodec<>(RunList.class, 3, Formats::runList, Formats::runList),   // v3: its summaries with their metrics' stats
      new WireCodec<>(HistoryRead.class, 3, Formats::historyRead, Formats::historyRead),   // v3: ranges, downsampled, rewound stretches, metrics
      new WireCodec<>(Follow.class, Formats::follow, Formats::follow),
      new WireCodec<>(Bucket.class, Formats::bucket, Formats::bucket));

  /** Between a run and its own node's store: they never leave it. */
  private static final List<Class<?>> LOCAL = List.of(Written.class, Checkpoint.class, Rewound.class);

  private Codecs() {
  }

  /** Registers every codec; a second call on the same bus throws (registration is by class, once). */
  public static void registerAll(EventBus bus) {
    for (WireCodec<?> c : WIRE) register(bus, c);
    for (Class<?> type : LOCAL) register(bus, WireCodec.local(type));
  }

  private static <T> void register(EventBus bus, WireCodec<T> codec) {
    bus.registerDefaultCodec(codec.type(), codec);
  }

  /** The wire codec of {@code type}, to encode and decode directly (benchmarks, tests). */
  @SuppressWarnings("unchecked")
  public static <T> WireCodec<T> wire(Class<T> type) {
    for (WireCodec<?> c : WIRE) if (c.type() == type) return (WireCodec<T>) c;
    throw new IllegalArgumentException(type.getSimpleName() + " does not cross nodes");
  }
}
