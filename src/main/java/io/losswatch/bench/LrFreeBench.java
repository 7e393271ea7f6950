package io.losswatch.bench;

import io.losswatch.cli.TraceCommand;
import io.losswatch.core.RunSpec;
import io.losswatch.core.Trainer;
import io.losswatch.core.diagnosis.Diagnoser;
import io.losswatch.core.diagnosis.Verdict;
import io.losswatch.core.policy.Policy;
import io.losswatch.core.problem.Problem;
import io.losswatch.core.problem.Problems;
import io.losswatch.core.state.Snapshots;
import java.io.IOException;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * {@code bench --only=lr-free}: {@code auto_lr} against the learning-rate-free optimizers on each built-in problem.
 * First a ×10 sweep of Adam's lr (1e-5 to 10) finds the best fixed lr (the lowest final loss; among losses under
 * {@link #EQUAL} the one there first). Then, for the same step budget: Adam with {@code auto_lr} from that lr ÷100
 * and ×100, Prodigy and D-Adapt Adam at their defaults, Schedule-Free AdamW at its default lr. Each is measured by
 * its final loss and the steps it took to come within 10% of the best fixed lr's final loss. auto_lr runs as
 * {@code trace} runs it (and so as the server does): its trajectory here is checked against trace's, row for row,
 * and its look-ahead steps are counted. Pure computation in this process; no server.
 */
final class LrFreeBench {
  static final int STEPS = 1000;
  static final double[] SWEEP = {1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10};
  /** Losses under this count as equal (all but zero). */
  static final double EQUAL = 1e-12;
  /** "Within 10%": a loss at most this factor of the best fixed lr's. */
  static final double WITHIN = 1.1;
  private final BenchCommand bench;

  LrFreeBench(BenchCommand bench) {
    this.bench = bench;
  }

  /** One run's measure: its losses step by step, its last lr, and the look-ahead steps it took besides. */
  record Outcome(String what, double[] losses, double lastLr, long lookAheadSteps, double evalLoss) {
    double last() {
      return losses.length == 0 ? Double.NaN : losses[losses.length - 1];
    }

    /** The final loss, NaN if the run ended early (diverged) before the budget. */
    double finalLoss() {
      return losses.length < STEPS ? Double.NaN : last();
    }

    /** The first step whose loss is within 10% of {@code target} (or both under {@link #EQUAL}), -1 if none. */
    int stepsTo(double target) {
      for (int i = 0; i < losses.length; i++) if (reached(losses[i], target)) return i + 1;
      return -1;
    }
  }

  static boolean reached(double loss, double target) {
    return loss <= WITHIN * target || (loss < EQUAL && target < EQUAL);
  }

  /** Whether {@code a} ends lower than {@code b}, losses under {@link #EQUAL} being equal: 1 lower, 0 tie, -1 not. */
  static int compare(double a, double b) {
    if (!(a == a)) return b == b ? -1 : 0;
    if (!(b == b)) return 1;
    if (a < EQUAL && b < EQUAL) return 0;
    return a < b ? 1 : a > b ? -1 : 0;
  }

  void run() throws IOException {
    bench.out.println("lr-free: auto_lr and the learning-rate-free optimizers, " + STEPS + " steps per run");
    List<String[]> table = new ArrayList<>();
    int withinLow = 0;
    int withinHigh = 0;
    int beatsLow = 0;
    int beatsHigh = 0;
    for (String problem : Problems.TYPES) {
      Outcome best = null;
      double bestLr = Double.NaN;
      for (double lr : SWEEP) {
        Outcome o = fixed(problem, "{\"type\":\"adam\",\"lr\":" + lr + "}");
        if (best == null || better(o, best)) {
          best = o;
          bestLr = lr;
        }
      }
      double target = best.finalLoss();
      Outcome low = auto(problem, bestLr / 100);
      Outcome high = auto(problem, bestLr * 100);
      Outcome prodigy = fixed(problem, "{\"type\":\"prodigy\"}");
      Outcome dadapt = fixed(problem, "{\"type\":\"dadapt_adam\"}");
      Outcome sf = fixed(problem, "{\"type\":\"schedulefree_adamw\"}");
      if (reached(low.finalLoss(), target)) withinLow++;
      if (reached(high.finalLoss(), target)) withinHigh++;
      if (compare(low.finalLoss(), prodigy.finalLoss()) > 0) beatsLow++;
      if (compare(high.finalLoss(), prodigy.finalLoss()) > 0) beatsHigh++;
      String[] row = {problem, fmt(bestLr), cell(best, target), autoCell(low, target), autoCell(high, target),
          cell(prodigy, target), cell(dadapt, target), cell(sf, target) + " (x: " + fmt(sf.evalLoss) + ")"};
      table.add(row);
      bench.out.println("  " + String.join(" | ", row));
    }
    bench.out.println();
    bench.out.println("| problem | best Adam lr | (a) Adam, best lr | (b) auto_lr from ÷100 | (b) auto_lr from ×100"
        + " | (c) Prodigy | (d) D-Adapt Adam | (e) Schedule-Free AdamW |");
    bench.out.println("|---|---|---|---|---|---|---|---|");
    for (String[] r : table) bench.out.println("| " + String.join(" | ", r) + " |");
    bench.out.println();
    int n = Problems.TYPES.size();
    bench.row("auto_lr from best ÷100 ends within 10% of the best fixed lr", withinLow + " of " + n, "≥ 6 of " + n,
        withinLow >= 6);
    bench.row("auto_lr from best ×100 ends within 10% of the best fixed lr", withinHigh + " of " + n, "≥ 6 of " + n,
        withinHigh >= 6);
    bench.row("auto_lr from best ÷100 ends lower than Prodigy", beatsLow + " of " + n, "≥ 4 of " + n, beatsLow >= 4);
    bench.row("auto_lr from best ×100 ends lower than Prodigy", beatsHigh + " of " + n, "≥ 4 of " + n, beatsHigh >= 4);
  }

  /** The lower final loss wins; among two under {@link #EQUAL}, the one there first; a diverged run never wins. */
  private static boolean better(Outcome o, Outcome best) {
    int c = compare(o.finalLoss(), best.finalLoss());
    if (c != 0) return c > 0;
    if (!(o.finalLoss() == o.finalLoss())) return false;
    int a = o.stepsTo(EQUAL / WITHIN);
    int b = best.stepsTo(EQUAL / WITHIN);
    return a >= 0 && (b < 0 || a < b);
  }

  private static String spec(String problem, String optimizer, String more) {
    return "{\"problem\":\"" + problem + "\",\"optimizer\":" + optimizer + ",\"steps\":" + STEPS + more + "}";
  }

  /** A run without auto_lr, step by step; for Schedule-Free, also the loss at its average x at the end. */
  private static Outcome fixed(String problem, String optimizer) {
    RunSpec spec = RunSpec.parse(spec(problem, optimizer, ""));
    Trainer t = new Trainer(spec);
    double[] losses = new double[STEPS];
    int n = 0;
    while (n < STEPS) {
      t.step();
      losses[n++] = t.loss();
      if (!Double.isFinite(t.loss())) break;   // as trace and the server end it
    }
    double evalLoss = Double.NaN;
    if (optimizer.contains("schedulefree")) {
      double[] x = t.params();
      t.state().state("optimizer").copy("x", x);
      Problem p = spec.problem().create();
      evalLoss = p.evaluate(x, new double[x.length]);
    }
    return new Outcome(optimizer, Arrays.copyOf(losses, n), t.lr(), 0, evalLoss);
  }

  /**
   * Adam with auto_lr from {@code lr}, driven as {@link TraceCommand#write} drives it (its loop, here with the
   * look-ahead steps counted), and checked against trace's own output.
   */
  private static Outcome auto(String problem, double lr) throws IOException {
    RunSpec spec = RunSpec.parse(spec(problem, "{\"type\":\"adam\",\"lr\":" + lr + "}", ",\"auto_lr\":true"));
    Trainer trainer = new Trainer(spec);
    Diagnoser diagnoser = new Diagnoser();
    Policy policy = new Policy(spec, diagnoser, trainer, 0);
    List<double[]> rows = new ArrayList<>();   // step, loss, lr, grad_norm
    long lookAhead = 0;
    for (Policy.Next next = Policy.Next.STEP; next != Policy.Next.DIVERGED && next != Policy.Next.FINISHED; ) {
      trainer.step();
      rows.add(new double[] {trainer.stepsTaken(), trainer.loss(), trainer.lr(), trainer.gradNorm()});
      Verdict before = diagnoser.current().verdict();
      diagnoser.observe(trainer.stepsTaken(), trainer.loss(), trainer.lr(), trainer.gradNorm(), trainer.updateCosine(),
          trainer.efficiency());
      next = policy.afterStep(trainer, before);
      if (next == Policy.Next.REWIND) {
        Snapshots.Snapshot to = policy.rewindTarget(trainer.stepsTaken());
        trainer = policy.rewind(trainer, to);
        while (!rows.isEmpty() && rows.get(rows.size() - 1)[0] > to.step()) rows.remove(rows.size() - 1);
        diagnoser.reset();
      } else if (next == Policy.Next.PROVE) {
        while (!policy.prove(1)) lookAhead++;
        lookAhead++;
        double auto = policy.takeAutoLr();
        if (!Double.isNaN(auto)) {
          trainer.setLr(auto);
          diagnoser.reset();
        }
      }
    }
    StringWriter trace = new StringWriter();
    TraceCommand.write(spec, trace);
    StringBuilder mine = new StringBuilder(io.losswatch.core.TraceCsv.HEADER);
    for (double[] r : rows) io.losswatch.core.TraceCsv.row(mine, (long) r[0], r[1], r[2], r[3]);
    if (!trace.toString().equals(mine.toString())) {
      throw new IllegalStateException("auto_lr from " + lr + " on " + problem + " went another way than trace");
    }
    double[] losses = rows.stream().mapToDouble(r -> r[1]).toArray();
    return new Outcome("auto_lr", losses, rows.isEmpty() ? Double.NaN : rows.get(rows.size() - 1)[2], lookAhead,
        Double.NaN);
  }

  private static String cell(Outcome o, double target) {
    int s = o.stepsTo(target);
    String loss = o.losses.length < STEPS ? "diverged at step " + o.losses.length : fmt(o.finalLoss());
    return loss + ", " + (s < 0 ? "—" : s + " steps");
  }

  private static String autoCell(Outcome o, double target) {
    return cell(o, target) + ", lr → " + fmt(o.lastLr) + ", look-ahead " + o.lookAheadSteps;
  }

  static String fmt(double v) {
    return Diagnoser.fmt(v);
  }
}
