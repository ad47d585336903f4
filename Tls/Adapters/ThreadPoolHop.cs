using System.Runtime.CompilerServices;

namespace Apps.Tls.Adapters;

/// <summary>
/// <c>await new ThreadPoolHop()</c> continues on a thread-pool thread, whatever synchronization context or thread the
/// caller is on (<see cref="Task.Yield"/> would go back to a UI context).
/// </summary>
/// <param name="preferLocal">Queue to the current pool thread's own queue: the continuation runs once that thread is
/// done with what it is doing (unless another thread steals it), which lets work that follows it pile up; otherwise to
/// the shared queue, where any thread may take it at once.</param>
public readonly struct ThreadPoolHop(bool preferLocal = false) : ICriticalNotifyCompletion
{
    public ThreadPoolHop GetAwaiter() => this;

    public bool IsCompleted => false;

    public void GetResult()
    {
    }

    public void OnCompleted(Action continuation) =>
        ThreadPool.QueueUserWorkItem(static state => state(), continuation, preferLocal);

    public void UnsafeOnCompleted(Action continuation) =>
        ThreadPool.UnsafeQueueUserWorkItem(static state => state(), continuation, preferLocal);
}
