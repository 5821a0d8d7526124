using System.Collections.Concurrent;

namespace Identity.Server.Accounts;

/// <summary>
/// Password hashes are computed here (a user's, through <see cref="PasswordHashes"/>, and the stand-in verified for
/// unknown users): on threads of their own, as many as there are cores, in order of arrival. A hash takes a core for
/// about 0.2 s (PBKDF2 at 210,000 iterations, SPEC §3). Run where requests arrive, 32 sign-ins at once would each take
/// 32 times as long, occupy the thread pool that every other request needs (its threads grow slowly), and go on hashing
/// for clients that have given up. Here a waiting request holds no thread, and one whose client has gone leaves the
/// queue without being hashed.
/// </summary>
internal sealed class PasswordHashingQueue : IDisposable
{
    private readonly BlockingCollection<Job> jobs = new(new ConcurrentQueue<Job>());
    private readonly Thread[] workers;

    public PasswordHashingQueue()
    {
        workers = [.. Enumerable.Range(0, Environment.ProcessorCount).Select(i => new Thread(Work) { IsBackground = true, Name = $"Password hashing {i}" })];
        foreach (var worker in workers) worker.Start();
    }

    /// <summary>Runs <paramref name="hash"/> in its turn; cancelled at once, and never run, if <paramref name="ct"/> fires first.</summary>
    public Task<T> RunAsync<T>(Func<T> hash, CancellationToken ct)
    {
        var job = new Job<T>(hash, ct);
        jobs.Add(job, CancellationToken.None);
        return job.Task;
    }

    private void Work()
    {
        foreach (var job in jobs.GetConsumingEnumerable()) job.Run();
    }

    public void Dispose()
    {
        jobs.CompleteAdding();
        foreach (var worker in workers) worker.Join();
        jobs.Dispose();
    }

    private abstract class Job
    {
        public abstract void Run();
    }

    private sealed class Job<T> : Job
    {
        private readonly Func<T> hash;
        private readonly TaskCompletionSource<T> result = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly CancellationTokenRegistration cancellation;

        public Job(Func<T> hash, CancellationToken ct)
        {
            this.hash = hash;
            cancellation = ct.Register(() => result.TrySetCanceled(ct));
        }

        public Task<T> Task => result.Task;

        public override void Run()
        {
            cancellation.Dispose();
            if (result.Task.IsCompleted) return;
            try
            {
                result.TrySetResult(hash());
            }
            catch (Exception exception)
            {
                result.TrySetException(exception);
            }
        }
    }
}
