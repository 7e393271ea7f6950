package io.losswatch.web;

import io.losswatch.core.Description;
import io.losswatch.core.RunSpec;
import io.losswatch.core.Schema;
import io.losswatch.core.TraceCsv;
import io.losswatch.core.config.Options;
import io.losswatch.core.config.SpecException;
import io.losswatch.event.HistoryRead;
import io.losswatch.history.MetricPoints;
import io.losswatch.event.RunCommand;
import io.losswatch.event.RunRefusal;
import io.losswatch.event.RunSummary;
import io.losswatch.event.StepBatch;
import io.losswatch.run.Run;
import io.losswatch.run.RunManager;
import io.vertx.core.Future;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The REST API: JSON in and out, one small handler per route. Every error is
 * {@code {"error": "...", "field": "..."}} with a 4xx status; no stack trace ever reaches a client.
 */
final class RestApi {
  static final int MAX_BODY_BYTES = 64 * 1024;
  private static final int CSV_CHUNK = 1 << 16;
  /** An exact answer this long is about 200 MB of JSON: past it, downsample or export. */
  static final int MAX_EXACT_POINTS = 2_000_000;
  /** A downsampled answer this long is about 1 MB of JSON, more than any chart has pixels for. */
  static final int MAX_POINTS = 10_000;
  /**
   * One step runs on an event loop, whole: at most this many multiply-adds ({@link RunSpec#stepCost}), about
   * 20 ms (measured: 0.7 to 1.0 ns each, for mlp steps of every shape on a shared 2-core machine; an mlp of
   * hidden 96 on the full batch, or of hidden 4096 on batches of 32, is about the limit).
   */
  static final long MAX_STEP_COST = 20_000_000;
  private static final Logger LOG = Logger.getLogger(RestApi.class.getName());
  static final String JSON = "application/json; charset=utf-8";
  /** {@code GET /api/schema}: every option of a run spec, a range test, a sweep and a branch (docs/runspec.md). */
  static final String SCHEMA = Json.tree(schema());
  private final RunManager manager;
  private final AccessGuard guard;
  private final BodyLimits bodies;
  private final int maxSteps;

  /** {@code guard}: who may read and change ({@link AccessGuard}), first on every {@code /api/*} route. */
  RestApi(RunManager manager, AccessGuard guard, BodyLimits bodies, int maxSteps) {
    this.manager = manager;
    this.guard = guard;
    this.bodies = bodies;
    this.maxSteps = maxSteps;
  }

  void mount(Router router) {
    router.route("/api/*").handler(guard);   // a bad head is refused before its body is read
    new IngestApi(manager).mount(router, bodies);   // its own body limit, before the one of every other route
    router.route("/api/*").handler(bodies::reserve);
    router.route("/api/*").handler(BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES));
    router.post("/api/runs").handler(this::create);
    router.get("/api/runs").handler(this::list);
    router.get("/api/runs/:id").handler(this::get);
    router.get("/api/runs/:id/steps").handler(this::steps);
    router.get("/api/runs/:id/steps.csv").handler(this::csv);
    router.get("/api/runs/:id/metrics").handler(this::metrics);
    router.patch("/api/runs/:id").handler(this::describe);
    new ExportApi(manager).mount(router);
    router.post("/api/runs/:id/lr").handler(this::setLr);
    router.post("/api/runs/:id/apply-advice").handler(ctx -> command(ctx, RunCommand.of(RunCommand.Kind.APPLY_ADVICE)));
    router.post("/api/runs/:id/pause").handler(ctx -> command(ctx, RunCommand.of(RunCommand.Kind.PAUSE)));
    router.post("/api/runs/:id/branch").handler(this::branch);
    new LrRangeApi(manager, this::allowed).mount(router);
    new SweepApi(manager, this::allowed).mount(router);
    router.get("/api/schema").handler(ctx -> {
      RequestInput.none(ctx);
      ok(ctx, 200, SCHEMA);
    });
    router.post("/api/runs/:id/resume").handler(ctx -> {
      Run run = run(ctx);
      RequestInput.none(ctx);
      reply(ctx, manager.resume(run));
    });
    router.post("/api/runs/:id/stop").handler(ctx -> command(ctx, RunCommand.of(RunCommand.Kind.STOP)));
    router.delete("/api/runs/:id").handler(this::delete);
    router.get("/health").handler(ctx -> ok(ctx, 200,
        Json.health(manager.runs().size())));
    router.route().failureHandler(RestApi::failure);
    for (int status : new int[] {400, 404, 405, 413, 415, 500}) {
      router.errorHandler(status, RestApi::failure);
    }
  }

  /** The schema of every request body with options, described by the readers that read them. */
  static Map<String, Object> schema() {
    Map<String, Object> out = new LinkedHashMap<>(Schema.runSpec());
    out.put("lr_range", Schema.describe("", Map.of(), LrRangeApi::read));
    out.put("sweep", Schema.describe("", Map.of(), SweepApi::read));
    out.put("branch", Schema.describe("", Map.of(), RestApi::readBranch));
    return out;
  }

  private void create(RoutingContext ctx) {
    RunSpec spec = allowed(RunSpec.from(RequestInput.json(ctx)));
    // in a cluster a busy node may place it on a quieter one (?here=true keeps it on this one): the answer says where
    manager.create(spec, RequestInput.bool(ctx, "here"))
        .onSuccess(c -> ok(ctx, 201, Json.created(c.run().summary(), c.node())))
        .onFailure(ctx::fail);
  }

  /** A spec this server will run: its steps under --max-steps, one step light enough for an event loop. */
  RunSpec allowed(RunSpec spec) {
    if (spec.steps() > maxSteps) {
      throw new ApiError(429, "steps: at most " + maxSteps + " per run on this server, got " + spec.steps(), "steps");
    }
    if (spec.stepCost() > MAX_STEP_COST) {
      throw new ApiError(400, "problem: one step would take about " + spec.stepCost() + " multiply-adds, over this"
          + " server's limit of " + MAX_STEP_COST + " (about 20 ms, as a step runs on an event loop); lower "
          + (spec.problemType().equals("mlp") ? "problem.hidden or problem.batch_size" : "the problem's size"),
          "problem");
    }
    return spec;
  }

  /** Every summary, each with its metrics' last, lowest and highest values (a restored run's read once: off the loop). */
  private void list(RoutingContext ctx) {
    List<Run> runs = List.copyOf(manager.runs().all());
    ctx.vertx().executeBlocking(() -> {
      return Json.text(g -> {
        g.writeStartArray();
        for (Run r : runs) Json.summary(g, r.summary(), r.metricStats());
        g.writeEndArray();
      });
    }, false).onSuccess(json -> ok(ctx, 200, json)).onFailure(ctx::fail);
  }

  private void get(RoutingContext ctx) {
    Run run = run(ctx);
    ctx.vertx().executeBlocking(() -> Json.summary(run.summary(), run.metricStats()), false)
        .onSuccess(json -> ok(ctx, 200, json)).onFailure(ctx::fail);
  }

  /** {@code PATCH /api/runs/{id}} {@code {"tags": [...], "notes": "..."}}, either or both: the run's, in any state. */
  private void describe(RoutingContext ctx) {
    Run run = run(ctx);
    Description d = Description.patch(RequestInput.json(ctx), run.spec().description());
    reply(ctx, manager.describe(run, d));
  }

  /**
   * Each metric at the steps that logged it (a validation accuracy every 50 steps keeps all its points, which the
   * loss-driven downsampling of {@code /steps} would drop): {@code ?from=&to=&max_points=} (per metric).
   */
  private void metrics(RoutingContext ctx) {
    Run run = run(ctx);
    long last = run.lastStep();   // another node's: as its summary here says (its owner reads what it has)
    Span q = Span.of(ctx, last);
    manager.steps().read(run, HistoryRead.metrics(run.id(), q.from(), Math.min(q.to(), last), q.maxPoints()),
        b -> Json.metricPoints(run.id(), last, MetricPoints.split(b))).onSuccess(json -> ok(ctx, 200, json)).onFailure(ctx::fail);
  }

  /** A read's {@code ?from=&to=&max_points=}: steps from..to (to defaults to the run's last), points at most (0: all). */
  private record Span(long from, long to, int maxPoints) {
    static Span of(RoutingContext ctx, long last) {
      long from = RequestInput.integer(ctx, "from", 1, 1, Long.MAX_VALUE);
      long to = RequestInput.integer(ctx, "to", Math.max(last, from), 1, Long.MAX_VALUE);
      if (to < from) throw new ApiError(400, "to: must be >= from (" + from + "), got " + to, "to");
      return new Span(from, to, (int) RequestInput.integer(ctx, "max_points", 0, 4, MAX_POINTS));
    }
  }

  private void steps(RoutingContext ctx) {
    Run run = run(ctx);
    // another node's run may be further on than its last summary here said (a second old): all there is, by default
    Span q = Span.of(ctx, run.local() ? run.lastStep() : Long.MAX_VALUE);
    long from = q.from(), to = q.to();
    int maxPoints = q.maxPoints();
    boolean abandoned = RequestInput.bool(ctx, "abandoned");
    // a range may reach back into the log on disk (or be another node's), and a long one makes a big body: the read
    // and the writing go off the event loop. Steps need not be consecutive: the records are counted, not the steps
    // (one over the limit is read, never more, so the owner of another node's run is asked no more than that)
    String id = run.id();
    HistoryRead range = new HistoryRead(id, from, to, maxPoints, maxPoints == 0 ? MAX_EXACT_POINTS + 1 : Integer.MAX_VALUE, 0);
    Function<List<StepBatch>, Function<StepBatch, String>> write = gone -> b -> {
      if (maxPoints == 0 && b.size() > MAX_EXACT_POINTS) {
        throw new ApiError(400, "to: " + from + ".." + to + " holds more than the " + MAX_EXACT_POINTS + " steps one"
            + " answer may carry without max_points; ask for a smaller range, set max_points, or fetch steps.csv", "to");
      }
      return gone == null ? Json.steps(b, 0, b.size(), false) : Json.steps(b, gone);
    };
    Future<String> json;
    if (!abandoned) {
      json = manager.steps().read(run, range, write.apply(null));
    } else {   // the stretches the guard's rewinds took out, each whole, with the rewind they belong to
      List<Future<StepBatch>> gone = new ArrayList<>();
      for (int k = 1; k <= run.summary().rewinds().size(); k++) {
        gone.add(manager.steps().read(run, HistoryRead.abandoned(id, k), b -> b));
      }
      json = Future.all(gone).compose(x -> manager.steps().read(run, range,
          write.apply(gone.stream().map(Future::result).toList())));
    }
    json.onSuccess(j -> ok(ctx, 200, j)).onFailure(ctx::fail);
  }

  /**
   * The whole run in the trace CSV format (with {@code sharpness,stability} when some step was measured, as
   * {@code trace --curvature} prints them, and an external run's extra scalars as more columns, those it had at the
   * first chunk), streamed in chunks read (another node's run's from that node) and formatted off the event loop.
   */
  private void csv(RoutingContext ctx) {
    Run run = run(ctx);
    long last = run.lastStep();
    // another node's run: its summary (as of last) says whether a step up to there was measured, its first chunk
    // which extra scalars it has
    boolean curvature = run.local() ? run.history().curvature() : run.summary().curvature() != null;
    ctx.response().setChunked(true).putHeader(HttpHeaders.CONTENT_TYPE, "text/csv; charset=utf-8")
        .putHeader("Content-Disposition", "attachment; filename=\"" + run.id() + ".csv\"");
    csvChunk(ctx, run, 1, last, run.local() ? run.history().metrics() : null, curvature);
  }

  /**
   * Steps from {@code from} up to {@code last} (from 1: with the header); {@code metrics}: the extra columns, null
   * to take the first chunk's.
   */
  private void csvChunk(RoutingContext ctx, Run run, long from, long last, List<String> metrics, boolean curvature) {
    if (from > last) {
      ctx.response().end();
      return;
    }
    manager.steps().read(run, HistoryRead.head(run.id(), from, CSV_CHUNK), b -> {
      List<String> columns = metrics != null ? metrics : List.copyOf(b.metrics().keySet());
      StringBuilder out = new StringBuilder(b.size() * 80 + 32);
      if (from == 1) {
        out.append(curvature ? TraceCsv.CURVATURE_HEADER : TraceCsv.HEADER);
        if (!columns.isEmpty()) out.setLength(out.length() - 1);
        for (String m : columns) out.append(',').append(m);
        if (!columns.isEmpty()) out.append('\n');
      }
      for (int i = 0; i < b.size() && b.step()[i] <= last; i++) {
        if (curvature) {
          TraceCsv.row(out, b.step()[i], b.loss()[i], b.lr()[i], b.gradNorm()[i],
              b.hasCurvature() ? b.sharpness()[i] : Double.NaN, b.hasCurvature() ? b.stability()[i] : Double.NaN);
        } else {
          TraceCsv.row(out, b.step()[i], b.loss()[i], b.lr()[i], b.gradNorm()[i]);
        }
        if (columns.isEmpty()) continue;
        out.setLength(out.length() - 1);
        for (String m : columns) {
          double[] v = b.metrics().get(m);
          out.append(',').append(v == null ? Double.NaN : v[i]);
        }
        out.append('\n');
      }
      return new CsvChunk(out.toString(), b.size() == 0 ? last + 1 : b.lastStep() + 1, columns);
    })
        .compose(chunk -> ctx.response().write(chunk.text()).map(chunk))   // the client sets the pace
        .onSuccess(chunk -> csvChunk(ctx, run, chunk.next(), last, chunk.metrics(), curvature))
        .onFailure(e -> ctx.response().reset());
  }

  /** A chunk of CSV, the step to read from next, and the extra scalars' columns. */
  private record CsvChunk(String text, long next, List<String> metrics) {
  }

  /** A branch's request: from which step, its lr (scaled or set; NaN: not given) and its name (null: made up). */
  record Branch(long at, double factor, double lr, String name) {
  }

  /**
   * {@code {"at_step": k, "lr_factor": f} | {"at_step": k, "lr": x}}, both optional, and an optional name (or,
   * {@link Options#describing}, their description).
   */
  static Branch readBranch(Options o) {
    long at = o.byDefault("the run's current step").integer("at_step", -1, 0);
    double factor = o.byDefault("1 (the parent's lr)").number("lr_factor", Double.NaN, v -> v > 0 && Double.isFinite(v), "must be > 0");
    double lr = o.byDefault("the parent's lr × lr_factor").number("lr", Double.NaN, v -> v > 0 && Double.isFinite(v), "must be > 0");
    String name = o.byDefault("made up from the parent's").string("name", null);
    o.done("a branch (at_step, lr_factor or lr, name)");
    if (!Double.isNaN(factor) && !Double.isNaN(lr)) throw new ApiError(400, "lr: give lr_factor or lr, not both", "lr");
    if (name != null && (name.isBlank() || name.codePointCount(0, name.length()) > RunSpec.MAX_NAME)) {
      throw new ApiError(400, "name: 1 to " + RunSpec.MAX_NAME + " characters", "name");
    }
    return new Branch(at, factor, lr, name);
  }

  private void branch(RoutingContext ctx) {
    Run run = run(ctx);
    Branch req = readBranch(Options.of("", RequestInput.jsonOrEmpty(ctx)));
    long at = req.at();
    double factor = req.factor();
    double lr = req.lr();
    String name = req.name();
    manager.branch(run, at, Double.isNaN(factor) ? 1 : factor, lr, name)
        .onSuccess(b -> ok(ctx, 201, Json.summary(b.summary())))
        .onFailure(ctx::fail);
  }

  private void setLr(RoutingContext ctx) {
    Run run = run(ctx);
    Options o = Options.of("", RequestInput.json(ctx));
    double lr = o.number("lr", v -> v > 0, "must be > 0");
    o.done("an lr change");
    reply(ctx, manager.command(run, RunCommand.setLr(lr)));
  }

  private void command(RoutingContext ctx, RunCommand command) {
    Run run = run(ctx);
    RequestInput.none(ctx);
    reply(ctx, manager.command(run, command));
  }

  private void delete(RoutingContext ctx) {
    Run run = run(ctx);
    RequestInput.none(ctx);
    manager.delete(run).onComplete(x -> ctx.response().setStatusCode(204).end());
  }

  private void reply(RoutingContext ctx, Future<RunSummary> f) {
    f.onSuccess(s -> ok(ctx, 200, Json.summary(s))).onFailure(ctx::fail);
  }

  private Run run(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    return manager.runs().get(id).orElseThrow(() -> ApiError.notFound(id));
  }

  static void ok(RoutingContext ctx, int status, String json) {
    ctx.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, JSON).end(json);
  }

  /** What a body over {@link #MAX_BODY_BYTES} is told. */
  static String tooLarge() {
    return "the body is over " + MAX_BODY_BYTES + " bytes (64 KiB), the most this request may carry";
  }

  /** Maps whatever went wrong to a status and the JSON error body. */
  static void failure(RoutingContext ctx) {
    Throwable t = ctx.failure();
    int status = ctx.statusCode() > 0 ? ctx.statusCode() : 500;
    String message;
    String field = null;
    String state = null;
    if (t instanceof ApiError e) {
      status = e.status;
      message = e.getMessage();
      field = e.field;
      state = e.state;
    } else if (t instanceof SpecException e) {
      status = 400;
      message = e.getMessage();
      field = e.field();
    } else if (RunRefusal.of(t) != null) {
      ApiError e = ApiError.of(RunRefusal.of(t));
      status = e.status;
      message = e.getMessage();
      field = e.field;
      state = e.state;
    } else {
      message = switch (status) {
        case 404 -> "no such resource: " + ctx.request().method() + " " + ctx.request().path();
        case 405 -> "method " + ctx.request().method() + " not allowed on " + ctx.request().path();
        case 413 -> IngestApi.isAppend(ctx.request()) ? IngestApi.tooLarge() : tooLarge();
        case 415 -> "unsupported media type";
        case 400 -> "bad request";
        default -> "internal error";
      };
      if (status == 400 && ctx.request().authority() == null) {   // the router refuses HTTP/1.1 without a Host
        message = "Host: a Host header is required";
        field = "Host";
      }
      if (status >= 500) LOG.log(Level.WARNING, "failed " + ctx.request().method() + " " + ctx.request().path(), t);
    }
    if (ctx.response().ended()) return;
    ctx.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, JSON).end(Json.error(message, field, state));
  }
}
