package dev.conveyor.streams.store;

import dev.conveyor.config.S3Settings;
import java.util.concurrent.ScheduledExecutorService;
import software.amazon.awssdk.services.s3.S3AsyncClient;

/** What every range read of one store shares: the client, the rules, and the endpoint's breaker, limiter, budget and counters. */
record S3Reads(S3AsyncClient client, S3Settings settings, ReaderMetrics metrics, CircuitBreaker breaker,
               AimdLimiter limiter, ByteBudget budget, ScheduledExecutorService timer) {}
