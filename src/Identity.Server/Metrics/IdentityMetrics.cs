using System.Diagnostics.Metrics;

namespace Identity.Server.Metrics;

/// <summary>
/// The identity server's instruments, on one meter created through <see cref="IMeterFactory"/>; the names are
/// public constants dashboards can rely on. Prometheus adds <c>_total</c> to counters and <c>_seconds</c> to
/// histograms in "s". The token validators keep their own meter (Identity.Kubernetes: cache hits/misses, TokenReview
/// API latency), which registering them adds to the same <c>/metrics</c>.
/// </summary>
public sealed class IdentityMetrics
{
    /// <summary>The meter name to enable in an OpenTelemetry MeterProvider.</summary>
    public const string MeterName = "Identity.Server";

    /// <summary>Seconds until the served issuer certificate expires (Linkerd's exact name; 0 before load).</summary>
    public const string IssuerCertTtlSeconds = "issuer_cert_ttl_seconds";

    /// <summary>Seconds until the earliest-expiring trust anchor expires (Linkerd has a TODO for this).</summary>
    public const string TrustAnchorTtlSeconds = "trust_anchor_ttl_seconds";

    /// <summary>Seconds until each trust anchor in the bundle expires, tagged <see cref="SubjectTag"/> and
    /// <see cref="FingerprintTag"/> (a rotation's old and new anchor often share a subject); 0 before load.</summary>
    public const string TrustAnchorsTtlSeconds = "identity_trust_anchor_ttl_seconds";

    /// <summary>1 while an issuer is served and valid now (what <c>/ready</c> checks), else 0.</summary>
    public const string IssuerValid = "identity_issuer_valid";

    /// <summary>1 while the issuer/anchor files on disk hold content other than what is served (the last read
    /// failed or was rejected, so a rotation has not taken effect), else 0.</summary>
    public const string IssuerMountedDiffers = "identity_issuer_mounted_differs";

    /// <summary>Certify calls, tagged <see cref="GrpcCodeTag"/>.</summary>
    public const string CertifyRequests = "identity_certify_requests";

    /// <summary>Certify latency in seconds, tagged <see cref="GrpcCodeTag"/>.</summary>
    public const string CertifyDuration = "identity_certify_duration";

    /// <summary>Leaf certificates issued.</summary>
    public const string CertificatesIssued = "identity_certificates_issued";

    /// <summary>Token review latency in seconds (the whole <c>ITokenValidator.ReviewAsync</c> call).</summary>
    public const string TokenReviewDuration = "identity_token_review_duration";

    /// <summary>Issuer/anchor reload attempts that changed or rejected content, tagged <see cref="ResultTag"/> (success|failure).</summary>
    public const string IssuerReloads = "identity_issuer_reloads";

    /// <summary>Exceptions that reached the Certify handler unexpected (bugs), tagged <see cref="ExceptionTypeTag"/>.</summary>
    public const string CertifyUnexpectedErrors = "identity_certify_unexpected_errors";

    /// <summary>Certify calls holding an admission slot now.</summary>
    public const string CertifyInProgress = "identity_certify_in_progress";

    /// <summary>Certify calls waiting for an admission slot now.</summary>
    public const string CertifyQueued = "identity_certify_queued";

    /// <summary>Certify calls refused or dropped before their expensive work, tagged <see cref="ReasonTag"/>.</summary>
    public const string CertifyRefused = "identity_certify_refused";

    /// <summary>Seconds a Certify call waited in the admission queue before its slot.</summary>
    public const string CertifyQueueWait = "identity_certify_queue_wait";

    /// <summary><see cref="CertifyRefused"/> reason: in-progress slots and queue were full (RESOURCE_EXHAUSTED).</summary>
    public const string RefusedCapacity = "capacity";

    /// <summary><see cref="CertifyRefused"/> reason: the deadline passed or the caller went away before the work.</summary>
    public const string RefusedAbandoned = "abandoned";

    /// <summary><see cref="CertifyRefused"/> reason: the call would have waited past its own deadline (RESOURCE_EXHAUSTED).</summary>
    public const string RefusedDeadline = "deadline";

    /// <summary>Tag carrying the reason of a refusal.</summary>
    public const string ReasonTag = "reason";

    /// <summary>Tag carrying the gRPC status code name (OK, InvalidArgument, ...).</summary>
    public const string GrpcCodeTag = "grpc_code";

    /// <summary>Tag carrying an exception's type name (System.InvalidOperationException).</summary>
    public const string ExceptionTypeTag = "exception_type";

    /// <summary>Tag carrying success or failure.</summary>
    public const string ResultTag = "result";

    /// <summary>Tag carrying a certificate's subject as .NET formats it (<c>CN=root.linkerd.cluster.local</c>).</summary>
    public const string SubjectTag = "subject";

    /// <summary>Tag carrying the first 16 hex digits of a certificate's SHA-256 fingerprint, lower case.</summary>
    public const string FingerprintTag = "fingerprint";

    private static readonly double[] LatencyBuckets =
        [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly Counter<long> _certifyRequests;
    private readonly Histogram<double> _certifyDuration;
    private readonly Counter<long> _certificatesIssued;
    private readonly Histogram<double> _tokenReviewDuration;
    private readonly Counter<long> _issuerReloads;
    private readonly Counter<long> _certifyUnexpectedErrors;
    private readonly Counter<long> _certifyRefused;
    private readonly Histogram<double> _certifyQueueWait;

    public IdentityMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        Meter = meterFactory.Create(MeterName);
        _certifyRequests = Meter.CreateCounter<long>(CertifyRequests, description: "Certify calls by gRPC status code");
        _certifyDuration = Meter.CreateHistogram(CertifyDuration, "s", "Certify latency",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
        _certificatesIssued = Meter.CreateCounter<long>(CertificatesIssued, description: "Leaf certificates issued");
        _tokenReviewDuration = Meter.CreateHistogram(TokenReviewDuration, "s", "Token review latency",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
        _issuerReloads = Meter.CreateCounter<long>(IssuerReloads, description: "Issuer reloads by result");
        _certifyUnexpectedErrors = Meter.CreateCounter<long>(CertifyUnexpectedErrors, description: "Unexpected exceptions in Certify, by type");
        _certifyRefused = Meter.CreateCounter<long>(CertifyRefused, description: "Certify calls refused or dropped before their expensive work, by reason");
        _certifyQueueWait = Meter.CreateHistogram(CertifyQueueWait, "s", "Time Certify calls waited for an admission slot",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
    }

    /// <summary>
    /// Puts the counters that alerts take rate()/increase() of at 0. A counter is exported only once it has a value,
    /// and Prometheus cannot see the step from "absent" to 1, so the first reload failure, refusal or issuance would
    /// never show. Called when the host starts: a measurement made before the exporter listens is lost.
    /// </summary>
    public void StartSeries()
    {
        _certificatesIssued.Add(0);
        _issuerReloads.Add(0, new KeyValuePair<string, object?>(ResultTag, "success"));
        _issuerReloads.Add(0, new KeyValuePair<string, object?>(ResultTag, "failure"));
        foreach (var reason in (ReadOnlySpan<string>)[RefusedCapacity, RefusedDeadline, RefusedAbandoned])
        {
            _certifyRefused.Add(0, new KeyValuePair<string, object?>(ReasonTag, reason));
        }
    }

    /// <summary>The meter, for observable instruments owned by other components.</summary>
    public Meter Meter { get; }

    public void RecordCertify(string grpcCode, TimeSpan elapsed)
    {
        var tag = new KeyValuePair<string, object?>(GrpcCodeTag, grpcCode);
        _certifyRequests.Add(1, tag);
        _certifyDuration.Record(elapsed.TotalSeconds, tag);
    }

    public void RecordIssued() => _certificatesIssued.Add(1);

    public void RecordAdmissionRefused(string reason) => _certifyRefused.Add(1, new KeyValuePair<string, object?>(ReasonTag, reason));

    public void RecordQueueWait(TimeSpan waited) => _certifyQueueWait.Record(waited.TotalSeconds);

    /// <summary>Publishes the admission gauges, read from the admission controller on each collection.</summary>
    public void ObserveAdmission(Func<int> inProgress, Func<int> queued)
    {
        Meter.CreateObservableGauge(CertifyInProgress, inProgress, description: "Certify calls in progress");
        Meter.CreateObservableGauge(CertifyQueued, queued, description: "Certify calls waiting for a slot");
    }

    public void RecordUnexpectedError(string exceptionType) =>
        _certifyUnexpectedErrors.Add(1, new KeyValuePair<string, object?>(ExceptionTypeTag, exceptionType));

    public void RecordTokenReview(TimeSpan elapsed) => _tokenReviewDuration.Record(elapsed.TotalSeconds);

    public void RecordIssuerReload(bool success) =>
        _issuerReloads.Add(1, new KeyValuePair<string, object?>(ResultTag, success ? "success" : "failure"));
}
