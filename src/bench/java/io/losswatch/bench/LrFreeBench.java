package io.losswatch.bench;

import io.losswatch.core.RunSpec;
import io.losswatch.core.TraceCsv;
import io.losswatch.core.Trainer;
import io.losswatch.core.diagnosis.Diagnoser;
import io.losswatch.core.diagnosis.Verdict;
import io.losswatch.core.policy.Policy;
import io.losswatch.core.problem.Problem;
import io.losswatch.core.problem.Problems;
import io.losswatch.core.state.Snapshots;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * {@code bench --only=lr-free}: {@code auto_lr} against the learning-rate-free optimizers on each built-in problem.
 * First a ×10 sweep of Adam's lr (1e-5 to 10) finds the best fixed lr (the lowest final loss; among equal ones, the
 * one there first). Then, for the same step budget: Adam with {@code auto_lr} from that lr ÷100 and ×100, Prodigy
 * and D-Adapt Adam at their defaults, Schedule-Free AdamW at its default lr. Each is measured by its final loss and the
 * steps it took to come within 10% of the best fixed lr's final loss (losses under {@link #EQUAL} count as equal).
 *
 * <p>Besides, for the start ×100: the best final loss any fixed lr (1e-5 to 1e4) reaches when it takes over after the
 * first {@link Diagnoser#WINDOW} + 1 steps, the earliest a diagnosis can call anything; and auto_lr with a guard that
 * rewinds a blow-up. auto_lr runs as {@code trace} runs it (and so as the server does), its look-ahead steps counted
 * ({@code LrFreeBenchTest} holds its rows to trace's). Pure computation in this
 * process; no server.
 */
final class LrFreeBench {
  static final int STEPS = 1000;
  static final double[] SWEEP = {1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10};
  /** The lrs a run 100× too high could switch to once a diagnosis can first judge it. */
  static final double[] TAKE_OVER = {1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10, 100, 1e3, 1e4};
  /** Losses under this count as equal (all but zero). */
  static final double EQUAL = 1e-12;
  /** Final losses that agree to this (relative) tie: both at the same optimum. */
  static final double TIE = 1e-6;
  /** "Within 10%": a loss at most this factor of the best fixed lr's. */
  static final double WITHIN = 1.1;
  static final String GUARD = ",\"guard\":{\"on\":[\"diverging\",\"non_finite\"]}";
  private final BenchCommand bench;

  LrFreeBench(BenchCommand bench) {
    this.bench = bench;
  }

  /**
   * One run's measure: its losses step by step, its last lr, the lr changes auto_lr made, the rewinds its guard made,
   * the look-ahead steps it took besides; for Schedule-Free, the loss at its average x at the end.
   */
  record Outcome(double[] losses, double lastLr, int changes, int rewinds, long lookAheadSteps, double evalLoss) {
    /** The final loss, NaN if the run ended early (diverged) before the budget. */
    double finalLoss() {
      return losses.length < STEPS ? Double.NaN : losses[losses.length - 1];
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

  /**
   * Whether final loss {@code a} is lower than {@code b}: 1 lower, 0 a tie (both under {@link #EQUAL}, or within
   * {@link #TIE} of each other), -1 higher. A run that did not finish (NaN) is higher than any that did.
   */
  static int compare(double a, double b) {
    if (!(a == a)) return b == b ? -1 : 0;
    if (!(b == b)) return 1;
    if (a < EQUAL && b < EQUAL || Math.abs(a - b) <= TIE * Math.max(Math.abs(a), Math.abs(b))) return 0;
    return a < b ? 1 : -1;
  }

  /** Wins, ties and losses of one column against another. */
  private static final class Tally {
    int wins;
    int ties;
    int losses;

    void add(double a, double b) {
      int c = compare(a, b);
      if (c > 0) wins++;
      else if (c == 0) ties++;
      else losses++;
    }

    @Override public String toString() {
      return wins + " wins, " + ties + " ties, " + losses + " losses";
    }
  }

  void run() {
    bench.out.println("lr-free: auto_lr and the learning-rate-free optimizers, " + STEPS + " steps per run");
    List<String> finals = new ArrayList<>();
    List<String> autos = new ArrayList<>();
    int withinLow = 0;
    int withinHigh = 0;
    int rescuable = 0;
    int withinGuard = 0;
    Tally low = new Tally();
    Tally high = new Tally();
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
      Outcome fromLow = auto(problem, bestLr / 100, "");
      Outcome fromHigh = auto(problem, bestLr * 100, "");
      double takeOver = takeOver(problem, bestLr * 100);
      Outcome guarded = auto(problem, bestLr * 100, GUARD);
      Outcome prodigy = fixed(problem, "{\"type\":\"prodigy\"}");
      Outcome dadapt = fixed(problem, "{\"type\":\"dadapt_adam\"}");
      Outcome sf = fixed(problem, "{\"type\":\"schedulefree_adamw\"}");
      if (reached(fromLow.finalLoss(), target)) withinLow++;
      if (reached(fromHigh.finalLoss(), target)) withinHigh++;
      if (reached(takeOver, target)) rescuable++;
      if (reached(guarded.finalLoss(), target)) withinGuard++;
      low.add(fromLow.finalLoss(), prodigy.finalLoss());
      high.add(fromHigh.finalLoss(), prodigy.finalLoss());
      String row = "| " + problem + " | " + fmt(bestLr) + " | " + cell(best, target) + " | " + cell(fromLow, target) + " | "
          + cell(fromHigh, target) + " | " + fmt(takeOver) + " | " + cell(guarded, target) + " | " + cell(prodigy, target)
          + " | " + cell(dadapt, target) + " | " + cell(sf, target) + " | " + fmt(sf.evalLoss) + " |";
      finals.add(row);
      bench.out.println("  " + row);
      autos.add("| " + problem + " | " + details(bestLr / 100, fromLow) + " | " + details(bestLr * 100, fromHigh) + " | "
          + details(bestLr * 100, guarded) + " |");
    }
    bench.out.println();
    bench.out.println("| problem | best Adam lr | (a) Adam, best lr | (b) auto_lr from ÷100 | (b) auto_lr from ×100 "
        + "| ×100, then the best fixed lr from step " + (Diagnoser.WINDOW + 1) + " | ×100, auto_lr and a guard "
        + "| (c) Prodigy | (d) D-Adapt Adam | (e) Schedule-Free AdamW (at y) | (e) at x |");
    bench.out.println("|---|---|---|---|---|---|---|---|---|---|---|");
    finals.forEach(bench.out::println);
    bench.out.println();
    bench.out.println("| problem | auto_lr from ÷100 | auto_lr from ×100 | ×100, auto_lr and a guard |");
    bench.out.println("|---|---|---|---|");
    autos.forEach(bench.out::println);
    bench.out.println();
    int n = Problems.TYPES.size();
    bench.row("auto_lr from best ÷100 ends within 10% of the best fixed lr", withinLow + " of " + n, "≥ 6 of " + n,
        withinLow >= 6);
    bench.row("auto_lr from best ×100 ends within 10% of the best fixed lr", withinHigh + " of " + n, "≥ 6 of " + n,
        withinHigh >= 6);
    bench.row("  … any fixed lr taking over after " + (Diagnoser.WINDOW + 1) + " steps at ×100 could", rescuable + " of " + n,
        "reported", true);
    bench.row("  … auto_lr with a guard (diverging, non_finite) from ×100", withinGuard + " of " + n, "reported", true);
    bench.row("auto_lr from best ÷100 against Prodigy (final loss)", low.toString(), "≥ 4 wins of " + n, low.wins >= 4);
    bench.row("auto_lr from best ×100 against Prodigy (final loss)", high.toString(), "≥ 4 wins of " + n, high.wins >= 4);
  }

  /** The lower final loss wins; among equal ones, the one within 10% of it first; a diverged run never wins. */
  private static boolean better(Outcome o, Outcome best) {
    int c = compare(o.finalLoss(), best.finalLoss());
    if (c != 0) return c > 0;
    if (!(o.finalLoss() == o.finalLoss())) return false;
    double tied = Math.min(o.finalLoss(), best.finalLoss());
    return o.stepsTo(tied) < best.stepsTo(tied);
  }

  private static String spec(String problem, String optimizer, String more) {
    return "{\"problem\":\"" + problem + "\",\"optimizer\":" + optimizer + ",\"steps\":" + STEPS + more + "}";
  }

  /**
   * The best final loss of a run at {@code lr} whose first {@link Diagnoser#WINDOW} + 1 steps are taken at {@code lr}
   * and the rest at one fixed lr of {@link #TAKE_OVER}: what an lr change could do at best once a diagnosis can first
   * call anything.
   */
  private static double takeOver(String problem, double lr) {
    Trainer t = new Trainer(RunSpec.parse(spec(problem, "{\"type\":\"adam\",\"lr\":" + lr + "}", "")));
    while (t.stepsTaken() < Diagnoser.WINDOW + 1) t.step();
    double best = Double.NaN;
    for (double to : TAKE_OVER) {
      Trainer b = t.fork();
      b.setLr(to);
      while (b.stepsTaken() < STEPS && Double.isFinite(b.loss())) b.step();
      if (b.stepsTaken() == STEPS && compare(b.loss(), best) > 0) best = b.loss();
    }
    return best;
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
    return new Outcome(Arrays.copyOf(losses, n), t.lr(), 0, 0, 0, evalLoss);
  }

  /** Adam with auto_lr from {@code lr} ({@code more}: more of the spec, a guard). */
  private static Outcome auto(String problem, double lr, String more) {
    return drive(RunSpec.parse(spec(problem, "{\"type\":\"adam\",\"lr\":" + lr + "}", ",\"auto_lr\":true" + more)))
        .outcome();
  }

  /** A run with auto_lr: the rows {@code trace} prints for it (its CSV, header included), and what it did. */
  record Driven(String csv, Outcome outcome) {
  }

  /**
   * Drives a spec with auto_lr (and its guard, if any) step by step as {@code trace} drives it, through the same
   * {@link Policy}, counting its look-ahead steps, lr changes and rewinds. {@code LrFreeBenchTest} holds its rows to
   * trace's.
   */
  static Driven drive(RunSpec spec) {
    Trainer trainer = new Trainer(spec);
    Diagnoser diagnoser = new Diagnoser();
    Policy policy = new Policy(spec, diagnoser, trainer, 0);
    List<double[]> rows = new ArrayList<>();   // step, loss, lr, grad_norm
    long lookAhead = 0;
    int changes = 0;
    int rewinds = 0;
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
        rewinds++;
      } else if (next == Policy.Next.PROVE) {
        while (!policy.prove(1)) lookAhead++;   // one look-ahead step a call, as trace's prove(all) takes them
        lookAhead++;
        double auto = policy.takeAutoLr();
        if (!Double.isNaN(auto)) {
          trainer.setLr(auto);
          diagnoser.reset();
          changes++;
        }
      }
    }
    StringBuilder csv = new StringBuilder(TraceCsv.HEADER);
    for (double[] r : rows) TraceCsv.row(csv, (long) r[0], r[1], r[2], r[3]);
    double[] losses = rows.stream().mapToDouble(r -> r[1]).toArray();
    return new Driven(csv.toString(), new Outcome(losses, trainer.nextLr(), changes, rewinds, lookAhead, Double.NaN));
  }

  /** "final loss (steps to within 10% of target)". */
  private static String cell(Outcome o, double target) {
    int s = o.stepsTo(target);
    String loss = o.losses.length < STEPS ? "diverged at step " + o.losses.length : fmt(o.finalLoss());
    return loss + " (" + (s < 0 ? "—" : String.valueOf(s)) + ")";
  }

  /** auto_lr's course: its lr from start to end, its changes and rewinds, its look-ahead steps. */
  private static String details(double from, Outcome o) {
    return "lr " + fmt(from) + " → " + fmt(o.lastLr) + ", " + o.changes + (o.changes == 1 ? " change" : " changes")
        + (o.rewinds > 0 ? ", " + o.rewinds + (o.rewinds == 1 ? " rewind" : " rewinds") : "") + ", " + o.lookAheadSteps
        + " look-ahead steps";
  }

  /** Four significant digits: enough to tell two losses at the same optimum apart where they differ. */
  static String fmt(double v) {
    if (!Double.isFinite(v)) return String.valueOf(v);
    java.math.BigDecimal b = new java.math.BigDecimal(v).round(new java.math.MathContext(4)).stripTrailingZeros();
    double a = Math.abs(v);
    return a != 0 && (a >= 1e6 || a < 1e-4) ? b.toString() : b.toPlainString();
  }
}
