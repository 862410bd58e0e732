using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Identity.Server.Events;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Identity.Kubernetes;

/// <summary>
/// Posts linkerd-identity's core/v1 Events (same reasons, types, messages and involved objects) so runbooks
/// watching for <c>IssuerUpdated</c> keep working. Calls only enqueue: posting happens on a background loop
/// with a bounded queue, so a slow or failing API server never delays <c>Certify</c>.
/// </summary>
public sealed class KubernetesEventSink : IIssuerEventSink, IAsyncDisposable
{
    private readonly IKubernetes _client;
    private readonly string _namespace;
    private readonly string _deployment;
    private readonly string _component;
    private readonly TimeSpan _postTimeout;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly Counter<long> _dropped;
    private readonly Channel<Corev1Event> _queue;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;
    private long _sequence;

    /// <summary>Creates the sink and starts its posting loop.</summary>
    public KubernetesEventSink(
        IKubernetes client,
        KubernetesEventOptions options,
        TimeProvider timeProvider,
        IMeterFactory meterFactory,
        ILogger<KubernetesEventSink> logger)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(meterFactory);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.QueueCapacity, 1);

        _client = client;
        _namespace = options.ResolveNamespace();
        _deployment = options.DeploymentName;
        _component = options.Component;
        _postTimeout = options.PostTimeout;
        _timeProvider = timeProvider;
        _logger = logger;
        _dropped = meterFactory.Create(KubernetesMetrics.MeterName).CreateCounter<long>(KubernetesMetrics.EventsDropped, description: "Kubernetes events not posted");
        _queue = Channel.CreateBounded<Corev1Event>(
            new BoundedChannelOptions(options.QueueCapacity) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true },
            OnDropped);
        _loop = Task.Run(PostLoopAsync);
    }

    /// <inheritdoc/>
    public void IssuerUpdated() =>
        Enqueue(DeploymentReference(), "IssuerUpdated", "Normal", "Updated identity issuer");

    /// <inheritdoc/>
    /// <remarks>Message: <c>Skipping issuer update as certs could not be read from disk: {reason}</c>, as Linkerd words it.</remarks>
    public void IssuerUpdateSkipped(string reason) =>
        Enqueue(DeploymentReference(), "IssuerUpdateSkipped", "Warning", $"Skipping issuer update as certs could not be read from disk: {reason}");

    /// <inheritdoc/>
    /// <remarks>Message: <c>{reason} - CSR Identity : {requestedIdentity}</c>, as Linkerd words it.</remarks>
    public void IssuerValidationFailed(string reason, string requestedIdentity) =>
        Enqueue(DeploymentReference(), "IssuerValidationFailed", "Warning", $"{reason} - CSR Identity : {requestedIdentity}");

    /// <inheritdoc/>
    public void IssuedLeafCertificate(string ns, string serviceAccount, string message) =>
        Enqueue(new V1ObjectReference { ApiVersion = "v1", Kind = "ServiceAccount", NamespaceProperty = ns, Name = serviceAccount },
            "IssuedLeafCertificate", "Normal", message);

    /// <summary>Stops accepting events and gives queued ones up to the post timeout to go out.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        try
        {
            await _loop.WaitAsync(_postTimeout, _timeProvider).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            await _stopping.CancelAsync().ConfigureAwait(false);
            await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        _stopping.Dispose();
    }

    private V1ObjectReference DeploymentReference() =>
        new() { ApiVersion = "apps/v1", Kind = "Deployment", NamespaceProperty = _namespace, Name = _deployment };

    private void Enqueue(V1ObjectReference involved, string reason, string type, string message)
    {
        var now = _timeProvider.GetUtcNow();
        // client-go names events <object>.<unix nanos in hex>; the sequence keeps same-tick events distinct.
        var unique = (now.ToUnixTimeMilliseconds() * 1_000_000) + (Interlocked.Increment(ref _sequence) % 1_000_000);
        var item = new Corev1Event
        {
            ApiVersion = "v1",
            Kind = "Event",
            Metadata = new V1ObjectMeta { Name = $"{involved.Name}.{unique:x}", NamespaceProperty = involved.NamespaceProperty },
            InvolvedObject = involved,
            Reason = reason,
            Message = message,
            Type = type,
            Source = new V1EventSource { Component = _component },
            ReportingComponent = _component,
            ReportingInstance = Environment.MachineName,
            FirstTimestamp = now.UtcDateTime,
            LastTimestamp = now.UtcDateTime,
            Count = 1,
        };

        // DropWrite never blocks; a full queue hands the event to OnDropped instead.
        _queue.Writer.TryWrite(item);
    }

    private void OnDropped(Corev1Event dropped)
    {
        _dropped.Add(1, new KeyValuePair<string, object?>("reason", "queue_full"));
        Log.EventDropped(_logger, dropped.Reason);
    }

    private async Task PostLoopAsync()
    {
        try
        {
            await foreach (var item in _queue.Reader.ReadAllAsync(_stopping.Token).ConfigureAwait(false))
            {
                await PostAsync(item).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Shutting down with events still queued: they are best effort by design.
        }
    }

    private async Task PostAsync(Corev1Event item)
    {
        var ns = item.Metadata.NamespaceProperty;
        using var timeout = new CancellationTokenSource(_postTimeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, _stopping.Token);
        try
        {
            await _client.CoreV1.CreateNamespacedEventAsync(item, ns, cancellationToken: linked.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpOperationException or HttpRequestException or OperationCanceledException or System.Text.Json.JsonException)
        {
            if (_stopping.IsCancellationRequested)
            {
                return;
            }

            _dropped.Add(1, new KeyValuePair<string, object?>("reason", "post_failed"));
            var error = e switch
            {
                HttpOperationException h => $"HTTP {(int?)h.Response?.StatusCode} {h.Response?.StatusCode}",
                OperationCanceledException => $"timed out after {_postTimeout.TotalSeconds:0.###}s",
                _ => e.Message,
            };
            Log.EventPostFailed(_logger, item.Reason, ns, error);
        }
    }
}
