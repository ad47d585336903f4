using System.Runtime.CompilerServices;

namespace Apps.Tls.Adapters;

/// <summary>
/// <c>await new ThreadPoolHop()</c> continues on a thread-pool thread, whatever synchronization context or thread the
/// caller is on (<see cref="Task.Yield"/> would go back to a UI context).
/// </summary>
internal readonly struct ThreadPoolHop : ICriticalNotifyCompletion
{
    public ThreadPoolHop GetAwaiter() => this;

    public bool IsCompleted => false;

    public void GetResult()
    {
    }

    public void OnCompleted(Action continuation) =>
        ThreadPool.QueueUserWorkItem(static state => state(), continuation, preferLocal: false);

    public void UnsafeOnCompleted(Action continuation) =>
        ThreadPool.UnsafeQueueUserWorkItem(static state => state(), continuation, preferLocal: false);
}
