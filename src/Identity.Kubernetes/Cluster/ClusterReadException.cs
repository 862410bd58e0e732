namespace Identity.Kubernetes.Cluster;

/// <summary>The Kubernetes API could not be reached or refused a read; the message is safe to show users.</summary>
public sealed class ClusterReadException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ClusterReadException()
    {
    }

    /// <summary>Creates the exception with a user-facing message.</summary>
    public ClusterReadException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a user-facing message and its cause.</summary>
    public ClusterReadException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
