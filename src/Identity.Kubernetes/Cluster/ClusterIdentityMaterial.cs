namespace Identity.Kubernetes.Cluster;

/// <summary>
/// The identity credentials one cluster actually mounts, as read from the Kubernetes API. A field is null when
/// the object or key is missing; <see cref="Problems"/> then says what is missing, in the words a user needs.
/// </summary>
/// <param name="Context">The kubeconfig context the material was read through.</param>
/// <param name="Namespace">The control-plane namespace.</param>
/// <param name="Scheme">The issuer scheme, detected from the Secret type and keys unless one was requested.</param>
/// <param name="IssuerCertificatePem">The issuer certificate file (issuer first, then its chain).</param>
/// <param name="IssuerKeyPem">The issuer private key file. Callers must never print it.</param>
/// <param name="TrustAnchorsPem">The <c>ca-bundle.crt</c> of the trust-roots ConfigMap.</param>
/// <param name="Problems">Missing objects or keys, empty when everything was found.</param>
public sealed record ClusterIdentityMaterial(
    string Context,
    string Namespace,
    string Scheme,
    string? IssuerCertificatePem,
    string? IssuerKeyPem,
    string? TrustAnchorsPem,
    IReadOnlyList<string> Problems);
