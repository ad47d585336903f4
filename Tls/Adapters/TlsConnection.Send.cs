// The ordered send path of TlsConnection; see the note at the top of TlsConnection.cs.
using System.Buffers;
using Apps.Tls.Engine;

namespace Apps.Tls.Adapters;

public sealed partial class TlsConnection
{
    /// <summary>
    /// Runs an engine operation whose records go straight into the transport: first whatever the read loop
    /// queued, then the new records, then one flush (the transport's back-pressure reaches the caller here).
    /// </summary>
    private async Task SendAsync<TState>(Action<TlsEngine, IBufferWriter<byte>, TState> operation, TState state, CancellationToken cancellationToken)
    {
        await _transportLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            lock (_gate)
            {
                if (_engine.Error is { } error)
                {
                    throw error;
                }

                IBufferWriter<byte> target = _transportOutputDone ? _sendQueue : _transport.Output;
                if (!_transportOutputDone && _sendQueue.WrittenCount > 0)
                {
                    _transport.Output.Write(_sendQueue.WrittenSpan);
                    _sendQueue.ResetWrittenCount();
                }

                operation(_engine, target, state);
                if (_transportOutputDone)
                {
                    _sendQueue.ResetWrittenCount();
                }
            }

            if (!_transportOutputDone)
            {
                await _transport.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _transportLock.Release();
        }

        await SendQueuedAsync(cancellationToken, wait: false).ConfigureAwait(false);
    }

    /// <summary>
    /// Moves what the read loop queued to the transport and flushes it. With <paramref name="wait"/> false it
    /// never waits for the transport lock: if another caller holds it, that caller re-checks the queue after
    /// releasing, so nothing is stranded.
    /// </summary>
    private async Task SendQueuedAsync(CancellationToken cancellationToken, bool wait)
    {
        while (true)
        {
            lock (_gate)
            {
                if (_sendQueue.WrittenCount == 0)
                {
                    return;
                }
            }

            if (wait)
            {
                await _transportLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            else if (!_transportLock.Wait(0, CancellationToken.None))
            {
                return;
            }

            try
            {
                lock (_gate)
                {
                    if (!_transportOutputDone)
                    {
                        _transport.Output.Write(_sendQueue.WrittenSpan);
                    }

                    _sendQueue.ResetWrittenCount();
                }

                if (!_transportOutputDone)
                {
                    await _transport.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            finally
            {
                _transportLock.Release();
            }
        }
    }

    private async Task CompleteTransportOutputAsync()
    {
        await _transportLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (!_transportOutputDone)
            {
                _transportOutputDone = true;
                await _transport.Output.CompleteAsync().ConfigureAwait(false);

                // A socket stream cannot half-close through Stream; shut its send side so the peer sees FIN.
                if (_ownedStream is System.Net.Sockets.NetworkStream network)
                {
                    try
                    {
                        network.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);
                    }
                    catch (Exception e) when (e is System.Net.Sockets.SocketException or ObjectDisposedException)
                    {
                        // Already closed by the peer or the owner; nothing left to half-close.
                    }
                }
            }
        }
        finally
        {
            _transportLock.Release();
        }
    }
}
