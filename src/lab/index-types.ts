// The types an experiment definition needs, in one import.
export type { Arm, Claim, Column, Experiment, Figure, LabMode, Measure, Plan } from './experiment.ts';
export type { Condition, Ref } from './verdict.ts';
