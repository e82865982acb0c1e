<powershell>
# EKS-optimized Windows AMI, self-managed node group, Karpenter (spec.userData) or a custom AMI ID:
# install ecr-credential-provider.exe, then pass both kubelet flags through -KubeletExtraArgs of
# Start-EKSBootstrap.ps1. The bootstrap puts its own --image-credential-provider-* flags (EKS's
# C:\Program Files\Amazon\EKS\credential-providers and ecr-credential-provider-config.json) on the
# kubelet service command line first and appends -KubeletExtraArgs last; the kubelet's flag parser
# keeps the last occurrence, so ours win. Paths have no spaces on purpose: the bootstrap escapes
# quotes inside the extra args. Managed node groups without a custom AMI run their own bootstrap
# line after this user data, without our flags: use install.ps1 -Wiring ServiceArgs -RestartKubelet
# after the node joined, or a launch template with a custom AMI ID.
# NOT RUN ON A REAL EKS WINDOWS NODE: see the README's support matrix.
$ErrorActionPreference = 'Stop'
$Version = '0.1.0'
$Zip = "$env:TEMP\ecr-credential-provider.zip"
# Fetch the release zip from where you host it (S3 shown; the node role needs s3:GetObject on it).
Read-S3Object -BucketName 'my-artifacts' -Key "ecr-credential-provider/v$Version/ecr-credential-provider-$Version-windows-amd64.zip" -File $Zip
Expand-Archive -Force -LiteralPath $Zip -DestinationPath "$env:TEMP\ecr-credential-provider"
& "$env:TEMP\ecr-credential-provider\ecr-credential-provider-$Version-windows-amd64\install.ps1" -Wiring Eks

[string]$EKSBootstrapScriptFile = "$env:ProgramFiles\Amazon\EKS\Start-EKSBootstrap.ps1"
& $EKSBootstrapScriptFile -EKSClusterName 'my-cluster' `
  -KubeletExtraArgs '--image-credential-provider-config=C:\ProgramData\ecr-credential-provider\credential-provider-config.json --image-credential-provider-bin-dir=C:\ProgramData\ecr-credential-provider\bin' `
  3>&1 4>&1 5>&1 6>&1
</powershell>
