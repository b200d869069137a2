"""The paper's experiments as data, and the runner that trains, samples, scores and records
them (``vidbench run ablation|benchmark|prediction|cross-domain|diversity``).

* :mod:`vidbench.experiments.specs`: which rows, metrics, protocols and seeds each table has;
* :mod:`vidbench.experiments.scales`: how big (``tiny`` on a CPU, ``paper``);
* :mod:`vidbench.experiments.cells`: cells and their content keys, sharding;
* :mod:`vidbench.experiments.artifacts`: image generator, PCA and motion runs, built or reused;
* :mod:`vidbench.experiments.scoring`: scoring a cell;
* :mod:`vidbench.experiments.diversity`: the motion-diversity metric (App. D);
* :mod:`vidbench.experiments.build`: building and scoring one cell, shared by the launchers;
* :mod:`vidbench.experiments.stages`: the experiment as a graph of stages, one stage run;
* :mod:`vidbench.experiments.runner`: :func:`run_experiment` (the local launcher, also under
  ``torchrun``) and one function per experiment;
* :mod:`vidbench.experiments.launch`: the stages as Slurm jobs (submitit), their status.
"""
from vidbench.experiments.runner import (run_ablation, run_benchmark, run_cross_domain,
                                         run_diversity, run_experiment, run_prediction_experiment)
from vidbench.experiments.scales import SCALES, Scale, scale_with
from vidbench.experiments.specs import EXPERIMENT_NAMES, ExperimentSpec, experiment_spec

__all__ = ["run_experiment", "run_ablation", "run_benchmark", "run_prediction_experiment",
           "run_cross_domain", "run_diversity", "SCALES", "Scale", "scale_with",
           "EXPERIMENT_NAMES", "ExperimentSpec", "experiment_spec"]
