package io.losswatch.core;

import io.losswatch.core.config.Options;
import io.losswatch.core.optim.Optimizers;
import io.losswatch.core.problem.Problems;
import io.losswatch.core.schedule.Schedules;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Every option a RunSpec takes, described by the readers themselves ({@link Options#describing}): the run's
 * own, and each optimizer's, schedule's and problem's by its type. {@code GET /api/schema} serves it (with the
 * range test's, the sweep's and the branch's), the page builds its forms from it, DocsTest holds docs/runspec.md to it.
 */
public final class Schema {
  /** The run length a schedule is described with; its options that default to it say "the run's steps". */
  private static final int RUN_STEPS = 1000;

  private Schema() {
  }

  /** {@code {"run": [...], "optimizers": {type: [...]}, "schedules": {...}, "problems": {...}}}. */
  public static Map<String, Object> runSpec() {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("run", RunSpec.describe());
    out.put("optimizers", byType("optimizer", Optimizers.TYPES, Optimizers::read));
    out.put("schedules", byType("schedule", Schedules.TYPES, o -> Schedules.read(o, RUN_STEPS)));
    out.put("problems", byType("problem", Problems.TYPES, Problems::read));
    return out;
  }

  /** The options a reader reads from an object at {@code path}, with nothing given but those in {@code given}. */
  public static List<Map<String, Object>> describe(String path, Map<String, Object> given, Consumer<Options> reader) {
    Options o = Options.describing(path, given);
    reader.accept(o);
    return o.described();
  }

  private static Map<String, Object> byType(String path, List<String> types, Consumer<Options> reader) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (String t : types) out.put(t, describe(path, Map.of("type", t), reader));
    return out;
  }
}
