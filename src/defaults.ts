/**
 * Every default of SPEC.md in one place, with its unit in the name. The schemas' `default`
 * keywords are generated from these values; a test holds the README's environment table to them.
 */
const SECOND_MS = 1000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
const MIB = 1024 * 1024;

export const PORT = 3000;
/** The folder holding `integrations/` and `workflows/`. */
export const DIR = ".";
export const STORE_URL = "sqlite:data/inlet.db";
export const WATCH = true;
export const OUTGOING_DENY_PRIVATE = false;
/** Runs one instance executes at once. */
export const CONCURRENCY = 10;
export const REDIS_PREFIX = "inlet:";
export const LOG_LEVEL = "info";

export const DEDUP_TTL = "7d";
export const DEDUP_TTL_MS = 7 * DAY_MS;
/** Past this a dedup key outlives any retry worth catching; far past it Redis refuses the expiry. */
export const DEDUP_TTL_MIN = "1s";
export const DEDUP_TTL_MIN_MS = SECOND_MS;
export const DEDUP_TTL_MAX = "365d";
export const DEDUP_TTL_MAX_MS = 365 * DAY_MS;
export const DEDUP_MAX_PARAMS = 5;
/** How often expired dedup keys are swept in stores that do not expire keys themselves. */
export const DEDUP_SWEEP_CRON = "*/5 * * * *";
/** Slots the in-process key index starts with (and shrinks back to); it doubles as keys arrive. */
export const DEDUP_INDEX_INITIAL_SLOTS = 1024;
/** Cells a scope's table of keys starts with (a power of two); it doubles past half full. */
export const DEDUP_SCOPE_INITIAL_CELLS = 16;

export const TOKEN_TTL = "1h";
export const TOKEN_TTL_MS = HOUR_MS;
export const TOKEN_TTL_MAX_MS = 24 * HOUR_MS;
export const TOKEN_MAX_BYTES = 4096;
export const JWT_ISSUER = "inlet";
/** Verified tokens remembered per verifier (auth/token-cache.ts). */
export const VERIFIED_TOKEN_CACHE_MAX = 10_000;
export const JWT_AUDIENCE = "inlet:incoming";
export const JWT_SECRET_MIN_BYTES = 32;
export const CLOCK_TOLERANCE_S = 30;
/** Failed API-key exchanges, and failed admin tokens, allowed per client in AUTH_FAILURE_WINDOW_MS before 429. */
export const AUTH_FAILURES_PER_WINDOW = 10;
export const AUTH_FAILURE_WINDOW_MS = MINUTE_MS;
/** An IPv6 client is counted by its network: the /64 a single site or host is usually given. */
export const CLIENT_IPV6_PREFIX_BITS = 64;

export const MAX_BODY_SIZE = "1mb";
export const MAX_BODY_BYTES = MIB;
/**
 * What is read and dropped of a refused request's body before its connection is cut (see
 * http/unread-body.ts): enough for a sender over the default maxBodySize by many times to hear
 * its 413; a body declared longer is cut off at once.
 */
export const UNREAD_BODY_DRAIN_MAX_BYTES = 32 * MIB;
export const UNREAD_BODY_DRAIN_MS = 2 * SECOND_MS;
export const MAX_BODY_DEPTH = 32;
export const MAX_BODY_LEAVES = 10_000;
export const SAMPLES = 20;
/** Samples are written in the background at this interval, never on the request path. */
export const SAMPLE_FLUSH_MS = 1000;
/**
 * How long samples a reload stops keeping (an integration removed, a count lowered) stay in the
 * store; a later reload within it that brings them back keeps them. A config file caught
 * half-written lacks them only for the watch debounce plus the writer's pause (milliseconds to
 * seconds): a minute covers that many times over, while removed request bodies outlive the
 * change by no more than that.
 */
export const SAMPLE_TRIM_GRACE_MS = MINUTE_MS;

export const SIGNATURE_HEADER = "X-Hub-Signature-256";
export const SIGNATURE_ALGORITHM = "sha256";
export const SIGNATURE_PREFIX = "sha256=";

export const OUTGOING_TIMEOUT = "10s";
export const OUTGOING_TIMEOUT_MS = 10 * SECOND_MS;
/** A call holds one of the runner's slots while it waits: longer than this is a mistake. */
export const OUTGOING_TIMEOUT_MAX = "10m";
export const OUTGOING_TIMEOUT_MAX_MS = 10 * MINUTE_MS;
/**
 * Credentials at least this long are scrubbed from the answer an outgoing node records; a shorter
 * one (a test's "t") would be found in ordinary data by chance, and mangle it.
 */
export const SCRUBBED_CREDENTIAL_MIN_CHARS = 8;
export const OUTGOING_ATTEMPTS = 3;
export const OUTGOING_EXPECT_STATUS = "2xx";
export const OUTGOING_RESPONSE_MAX_BYTES = MIB;
/**
 * A JSON answer nested deeper is kept as text: run records are written with JSON.stringify, which
 * recurses, and a 1 MiB answer can nest far past its stack.
 */
export const OUTGOING_RESPONSE_MAX_DEPTH = 128;
/**
 * A body written as JSON text may nest no deeper: its run record is written, and its credential
 * fields are found, by recursing (a structured body's depth is its config's, plus a value's).
 */
export const OUTGOING_BODY_MAX_DEPTH = OUTGOING_RESPONSE_MAX_DEPTH;
export const OUTGOING_BACKOFF_BASE_MS = 200;
export const OUTGOING_BACKOFF_MAX_MS = 30 * SECOND_MS;
/** Upper bound on a Retry-After we honour, so one slow receiver cannot park a run for hours. */
export const OUTGOING_RETRY_AFTER_MAX_MS = 60 * SECOND_MS;

export const SHUTDOWN_GRACE_MS = 10 * SECOND_MS;
export const WATCH_DEBOUNCE_MS = 250;
/** Retry-After sent with 503 when the store cannot be reached. */
export const STORE_UNAVAILABLE_RETRY_AFTER_S = 5;
/**
 * Retry-After (seconds) when a JWKS key set cannot be fetched: each retry costs a fetch to a
 * provider that was just down, and a provider outage rarely ends within seconds.
 */
export const IDP_UNAVAILABLE_RETRY_AFTER_S = 30;
/** A JWKS key set is fetched again once it is this old (jose's default, named here). */
export const JWKS_CACHE_MAX_AGE_MS = 10 * 60 * SECOND_MS;
/**
 * While the provider cannot be reached, tokens are verified with the last key set fetched, until
 * it has gone this long without a successful fetch: a key the provider has since withdrawn is
 * trusted no longer than this.
 */
export const JWKS_STALE_MAX_MS = 24 * 60 * 60 * SECOND_MS;
/**
 * A provider's key set no integration names any more is kept this long: a config file caught
 * half-written drops its integrations for a moment, and the set they need again when it lands
 * may then not be fetchable (the provider down). As long as a reload's sample deletions wait.
 */
export const JWKS_UNNAMED_KEEP_MS = SAMPLE_TRIM_GRACE_MS;

/** Runs kept in the history; older finished runs are pruned. */
export const RUN_HISTORY_LIMIT = 10_000;
/** Share of the history limit it may overshoot before a batch of the oldest runs is pruned. */
export const RUN_PRUNE_SLACK_SHARE = 0.01;
export const RUNS_PAGE_DEFAULT = 50;
export const RUNS_PAGE_MAX = 500;

/** Queued runs an embedded-store process holds in memory; more wait in the store until these are done. */
export const LOCAL_RUN_QUEUE_MAX = 10_000;
/**
 * Runs the SQLite store accepted and has not started, remembered with their event's JSON so that
 * their start reads nothing from the file (sqlite-store.ts); past this many, starts read it.
 */
export const SQLITE_ACCEPTED_RUNS_REMEMBERED = 1_000;
/** Wait before reading queued runs back after the store failed to answer a read back or a run's writes. */
export const LOCAL_RUN_REFILL_RETRY_MS = SECOND_MS;
/** How often the run throttle (engine/run-throttle.ts) looks at event-loop utilization. */
export const RUN_THROTTLE_INTERVAL_MS = 100;
/** Utilization from which a loop also serving requests counts as saturated. */
export const RUN_THROTTLE_BUSY_UTILIZATION = 0.9;
/**
 * Utilization under which a loop whose runs are paused counts as light: the senders alone leave
 * runs at least half of it, so the runs were what kept it saturated. Under saturating load, paused
 * loops read 0.72–0.9 in intervals where the senders slowed; at 1,000 req/s, under 0.35.
 */
export const RUN_THROTTLE_LIGHT_UTILIZATION = 0.5;
/** Share of INLET_CONCURRENCY runs keep under load, so they always progress. */
export const RUN_THROTTLE_FLOOR_SHARE = 0.1;
/** How long an embedded-store runner starts no run while the ingress saturates the loop (checked each interval); then the floor runs for one interval. */
export const RUN_THROTTLE_MAX_PAUSE_MS = SECOND_MS;

/** How long a SQLite write waits for a lock held elsewhere (another process, the checkpoint thread) before failing as unavailable. */
export const SQLITE_BUSY_TIMEOUT_MS = 5000;
/**
 * A turn of the event loop that queued at least this many SQLite writes is under load: its batch
 * waits for the next turn's writes (sqlite-group-commit.ts). Below it, a batch commits at once.
 */
export const GROUP_COMMIT_LOAD_WRITES_PER_TURN = 8;
/**
 * How often a SQLite batch that found the write lock held (the checkpoint thread's RESTART,
 * another process) tries again, from a timer: the event loop never sleeps in SQLite's busy handler,
 * whose steps (1, 2, 5, 10 ms…) would also round a short wait up.
 */
export const SQLITE_LOCK_RETRY_MS = 1;
/** A batch this large commits without waiting for more. */
export const GROUP_COMMIT_DEFER_MAX_WRITES = 128;
/** Turns a batch may wait under load: bounds the latency it adds to a few turns' work. */
export const GROUP_COMMIT_DEFER_MAX_TURNS = 3;
/** How often a serving SQLite store's checkpoint thread copies the WAL back into the database. */
export const SQLITE_CHECKPOINT_INTERVAL_MS = 250;
/**
 * WAL pages past which that thread tries a RESTART checkpoint, so the WAL can start over (64 MB
 * with 4 KB pages; the file, reused rather than shrunk, reaches ~100 MB under load). A RESTART
 * holds the write lock for milliseconds, and the lower this the more often: at 4,000 pages twice
 * a second at 1,000 req/s with a workflow.
 */
export const SQLITE_CHECKPOINT_RESTART_PAGES = 16_000;
/** SQLite's own default: the serving connection checkpoints itself again if that thread is lost. */
export const SQLITE_AUTOCHECKPOINT_PAGES = 1000;
/** Longest wait for the checkpoint thread to close its connection on shutdown before it is terminated. */
export const SQLITE_CHECKPOINT_STOP_MS = 5000;

/** How long `inlet runs` and `inlet samples` wait for the server's answer. */
export const ADMIN_CLIENT_TIMEOUT_MS = 10 * SECOND_MS;
