package io.dlsql.executor.train;

/** Progress after one training batch; epoch and batch count from 1. */
public record BatchProgress(
    int epoch, int epochs, int batch, int batches, double loss, double imagesPerSec, double etaSeconds) {}
