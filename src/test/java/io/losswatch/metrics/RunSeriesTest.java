package io.losswatch.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.core.RunSpec;
import io.losswatch.event.RunState;
import io.losswatch.event.RunSummary;
import io.losswatch.event.StepBatch;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * One run's series as the text format shows them, across a demo run's restart: the new cycle's gauges read NaN
 * until its first step, so a rule comparing the loss with its past never sees the last cycle's end as this one's.
 */
class RunSeriesTest {
  private static final RunSpec SPEC = RunSpec.parse("{\"name\":\"demo\",\"problem\":\"quadratic\",\"optimizer\":"
      + "{\"type\":\"sgd\",\"lr\":0.1},\"steps\":5,\"steps_per_second\":20}");

  private static String scrape(RunSeries series) {
    StringBuilder b = new StringBuilder();
    series.write(b);
    return b.toString();
  }

  private static String line(String text, String name) {
    return text.lines().filter(l -> l.startsWith(name + "{")).findFirst().orElseThrow();
  }

  @Test
  void aRestartShowsNoLossUntilItsFirstStepAndCountsTheCycle() {
    RunSeries series = new RunSeries();
    RunMeters m = new RunMeters("r1", SPEC);
    series.put("r1", m);
    RunSummary created = RunSummary.created("r1", SPEC, 1_000);
    m.update(created.withState(RunState.RUNNING, 2_000));
    m.update(new StepBatch("r1", 0, new long[] {5}, new double[] {0.01}, new double[] {0.1}, new double[] {0.2},
        new long[] {3_000}));
    m.update(created.withState(RunState.FINISHED, 3_500));
    String ended = scrape(series);
    assertTrue(line(ended, "losswatch_run_state").endsWith(",state=\"finished\"} 1.0"), ended);
    assertTrue(line(ended, "losswatch_loss").endsWith("} 0.01"), ended);
    assertTrue(line(ended, "losswatch_run_pace_steps_per_second").endsWith("} 20.0"), ended);
    assertTrue(line(ended, "losswatch_run_updated_timestamp_seconds").endsWith("} 3.5"), ended);

    RunSummary restarted = new RunSummary("r1", SPEC, RunState.RUNNING, 1, 0, Double.NaN, Double.NaN, Double.NaN,
        Double.NaN, 0, 1_000, 6_500, created.diagnosis(), List.of(), null);
    m.update(restarted);
    String again = scrape(series);
    assertTrue(line(again, "losswatch_run_state").endsWith(",state=\"running\"} 1.0"), again);
    assertTrue(line(again, "losswatch_run_cycle").endsWith("} 1.0"), again);
    assertTrue(line(again, "losswatch_loss").endsWith("} NaN"), again);
    assertTrue(line(again, "losswatch_step").endsWith("} 0.0"), again);
    assertEquals(1, again.lines().filter(l -> l.startsWith("losswatch_steps_total{")).count());
    assertTrue(line(again, "losswatch_steps_total").endsWith("} 1.0"), "the counter goes on: " + again);
  }

  @Test
  void aRunPausedForStorageSaysWhy() {
    RunSeries series = new RunSeries();
    RunMeters m = new RunMeters("r2", SPEC);
    series.put("r2", m);
    RunSummary paused = RunSummary.created("r2", SPEC, 1_000).withState(RunState.PAUSED, 2_000);
    m.update(new RunSummary(paused.id(), SPEC, RunState.PAUSED, 0, 0, Double.NaN, Double.NaN, Double.NaN, Double.NaN,
        0, 1_000, 2_000, paused.diagnosis(), List.of(), RunSummary.STORAGE));
    assertTrue(line(scrape(series), "losswatch_run_state").endsWith(",state=\"paused\",reason=\"storage\"} 1.0"));
    m.update(paused);
    assertTrue(line(scrape(series), "losswatch_run_state").endsWith(",state=\"paused\"} 1.0"));
  }

  /**
   * One info series a run for a table of runs with their configs: its lr, tags and at most 8 config values, each
   * cut to 64 characters; new tags replace it (no second series).
   */
  @Test
  void aRunsInfoCarriesItsConfigBounded() {
    StringBuilder config = new StringBuilder();
    for (int i = 0; i < 12; i++) config.append(i > 0 ? "," : "").append("\"k").append(i).append("\":").append(i);
    RunSpec spec = RunSpec.parse("{\"source\":\"external\",\"name\":\"mine\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.03},"
        + "\"tags\":[\"a\",\"b\"],\"config\":{\"schedule\":\"cosine\",\"model.width\":\"" + "w".repeat(100) + "\","
        + "\"nested\":{\"x/y\":[1,2]}," + config + "}}");
    RunSeries series = new RunSeries();
    RunMeters m = new RunMeters("r3", spec);
    series.put("r3", m);
    String info = line(scrape(series), "losswatch_run_info");
    assertTrue(info.contains(",lr=\"0.03\",tags=\"a,b\",config_schedule=\"cosine\",config_model_width=\""
        + "w".repeat(63) + "…\",config_nested_x_y=\"[1,2]\",config_k0=\"0\""), info);
    assertEquals(8, info.split("config_", -1).length - 1, "at most 8 config values: " + info);
    assertTrue(info.endsWith("} 1.0"), info);
    RunSpec tagged = spec.with(io.losswatch.core.Description.patch(io.losswatch.core.config.Json.parse("{\"tags\":[\"c\"]}"),
        spec.description()));
    m.update(RunSummary.created("r3", tagged, 1_000));
    String again = scrape(series);
    assertEquals(1, again.lines().filter(l -> l.startsWith("losswatch_run_info{")).count());
    assertTrue(line(again, "losswatch_run_info").contains(",tags=\"c\","), again);
    String builtin = line(scrape(one(SPEC)), "losswatch_run_info");
    assertTrue(builtin.contains(",lr=\"0.1\",tags=\"\",config_steps=\"5\",config_steps_per_second=\"20\""), builtin);
  }

  private static RunSeries one(RunSpec spec) {
    RunSeries s = new RunSeries();
    s.put("r", new RunMeters("r", spec));
    return s;
  }
}
