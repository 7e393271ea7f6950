package io.losswatch.core;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A training step allocates nothing: optimizers, schedules and problems size their state up front, and a curvature
 * measurement reuses its basis.
 */
class AllocationTest {
  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

  @ParameterizedTest
  @ValueSource(strings = {
      "'optimizer':{'type':'sgd','lr':0.001,'momentum':0.9,'nesterov':true},'schedule':{'type':'multistep','milestones':[5,9000]}",
      "'optimizer':{'type':'adam','amsgrad':true},'schedule':{'type':'onecycle','max_lr':0.01}",
      "'optimizer':{'type':'adamw'},'schedule':{'type':'cosine','T_max':100}",
      "'optimizer':{'type':'rmsprop','centered':true,'momentum':0.5},'schedule':{'type':'plateau'}",
      "'optimizer':{'type':'adagrad','lr_decay':0.01},'schedule':{'type':'warmup_cosine','warmup_steps':100}",
      "'optimizer':'adam','schedule':{'type':'linear'},'problem':'logreg'",
      "'optimizer':'adam','schedule':{'type':'step','step_size':7},'problem':{'type':'mlp','hidden':8,'batch_size':32}",
      "'optimizer':{'type':'rmsprop','centered':true},'problem':{'type':'mlp','hidden':8,'batch_size':32},'curvature_every':3",
      "'optimizer':{'type':'sgd','lr':0.01,'momentum':0.9},'problem':'softmax','curvature_every':4",
      "'optimizer':{'type':'prodigy','slice_p':3,'weight_decay':0.01},'schedule':{'type':'cosine','T_max':100}",
      "'optimizer':{'type':'dadapt_adam','use_bias_correction':true},'problem':'logreg'",
      "'optimizer':{'type':'dadapt_sgd','momentum':0.9},'problem':'softmax'",
      "'optimizer':{'type':'schedulefree_adamw','inner_momentum':0.9,'warmup_steps':100}",
      "'optimizer':{'type':'schedulefree_sgd','lr':0.001,'weight_decay':0.01}",
  })
  void stepsAllocateNothing(String body) {
    String problem = body.contains("'problem'") ? "" : ",'problem':'rosenbrock'";
    Trainer t = new Trainer(RunSpec.parse(("{" + body + problem + ",'steps':20000}").replace('\'', '"')));
    for (int i = 0; i < 2000; i++) t.step();   // let lazy state and the JIT settle
    long before = THREADS.getCurrentThreadAllocatedBytes();
    for (int i = 0; i < 5000; i++) t.step();
    long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
    // one boxed value per step would already be 80 kB; what remains is measurement noise
    assertTrue(allocated < 4096, allocated + " bytes allocated over 5000 steps");
  }
}
