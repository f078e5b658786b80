/** Retries `check` until it stops throwing; for effects that happen asynchronously (reloads, runs). */
export async function eventually<T>(
  check: () => Promise<T> | T,
  options?: { timeoutMs?: number; intervalMs?: number },
): Promise<T> {
  const deadline = Date.now() + (options?.timeoutMs ?? 10_000);
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, options?.intervalMs ?? 25));
    }
  }
}
