<#
.SYNOPSIS
Installs ecr-credential-provider.exe on a Windows Kubernetes node and wires the kubelet to it.

.DESCRIPTION
Run from the unzipped release (ecr-credential-provider-<version>-windows-amd64\), as Administrator.
  - Directory  %ProgramData%\ecr-credential-provider (bin\, cache\, roles-anywhere\), ACL set by SID to
    LocalSystem (S-1-5-18) and BUILTIN\Administrators (S-1-5-32-544) only, inheritance removed: the
    cache holds registry passwords and roles-anywhere\ a private key; a 0600 mode means nothing on NTFS.
  - bin\<name>.exe; a running copy is renamed aside first (Windows cannot replace a running EXE).
  - credential-provider-config.json (from node-config\wiring\windows\, or -ConfigFile), UTF-8 without BOM.
  - Wiring:
      None        (default) print the two kubelet flags, change nothing else.
      ServiceArgs append both flags to the kubelet service's command line (the ImagePath value of
                  HKLM\SYSTEM\CurrentControlSet\Services\<ServiceName>, what sc.exe binPath= writes),
                  replacing earlier occurrences; the old value is kept for -Uninstall. For kubelets run
                  as a Windows service with their flags on the command line (sc.exe / New-Service,
                  EKS-WindowsServiceHost after bootstrap, image-builder's sc.exe manager).
      Eks         print the -KubeletExtraArgs value for Start-EKSBootstrap.ps1 (run this script before
                  the bootstrap line of the user data; see eks-user-data.ps1).
  - -RestartKubelet restarts the service (the kubelet reads both flags only at start).
Kubelet <= 1.29 needs -ProviderName ecr-credential-provider.exe (it does not add .exe itself).
NOT RUN ON A REAL WINDOWS HOST: the executable is tested under wine on Linux; this script is not.

.EXAMPLE
.\install.ps1 -Wiring ServiceArgs -RestartKubelet
.\install.ps1 -Uninstall -RestartKubelet
#>
[CmdletBinding()]
param(
  [string]$SourceDir = $PSScriptRoot,
  [string]$InstallDir = (Join-Path $env:ProgramData 'ecr-credential-provider'),
  [ValidateSet('None', 'ServiceArgs', 'Eks')][string]$Wiring = 'None',
  [string]$ServiceName = 'kubelet',
  [string]$ProviderName = 'ecr-credential-provider',
  [string]$ConfigFile = '',
  [switch]$RestartKubelet,
  [switch]$Uninstall
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3

$principal = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) { throw 'run as Administrator' }
if ($InstallDir -match '\s') { throw "InstallDir must not contain spaces (kubelet extra args are split on them): $InstallDir" }

$BinDir = Join-Path $InstallDir 'bin'
$Config = Join-Path $InstallDir 'credential-provider-config.json'
$StateDir = Join-Path $InstallDir 'install'
$ExeName = if ($ProviderName -like '*.exe') { $ProviderName } else { "$ProviderName.exe" }
$Exe = Join-Path $BinDir $ExeName
$Flags = "--image-credential-provider-config=$Config --image-credential-provider-bin-dir=$BinDir"
$ServiceKey = "HKLM:\SYSTEM\CurrentControlSet\Services\$ServiceName"
$SavedImagePath = Join-Path $StateDir "$ServiceName.ImagePath.orig"
$FlagPattern = '\s--image-credential-provider-(config|bin-dir)(=|\s+)("[^"]*"|\\"[^"]*\\"|\S+)'

function Restart-Kubelet {
  if ($RestartKubelet) { Write-Host "restarting service $ServiceName"; Restart-Service -Name $ServiceName }
  else { Write-Host "restart the kubelet for this to take effect: Restart-Service $ServiceName" }
}

function Write-Utf8NoBom([string]$Path, [string]$Text) {
  $tmp = "$Path.tmp"
  [IO.File]::WriteAllText($tmp, $Text, (New-Object Text.UTF8Encoding $false))
  Move-Item -Force -LiteralPath $tmp -Destination $Path
}

if ($Uninstall) {
  if (Test-Path -LiteralPath $SavedImagePath) {
    Set-ItemProperty -Path $ServiceKey -Name ImagePath -Value (Get-Content -Raw -LiteralPath $SavedImagePath)
    Write-Host "restored the command line of service $ServiceName"
  }
  Restart-Kubelet
  Remove-Item -Recurse -Force -LiteralPath $InstallDir -ErrorAction SilentlyContinue
  Write-Host "removed $InstallDir"
  return
}

# 1. Directories and their ACL (by SID: names are localised).
foreach ($d in @($InstallDir, $BinDir, (Join-Path $InstallDir 'cache'), (Join-Path $InstallDir 'roles-anywhere'), $StateDir)) {
  New-Item -ItemType Directory -Force -Path $d | Out-Null
}
& "$env:SystemRoot\System32\icacls.exe" $InstallDir /inheritance:r /grant:r '*S-1-5-18:(OI)(CI)F' '*S-1-5-32-544:(OI)(CI)F' /T /C /Q | Out-Null
if ($LASTEXITCODE -ne 0) { throw "icacls failed with exit code $LASTEXITCODE" }

# 2. The executable. A running EXE cannot be replaced, but it can be renamed: move it aside first.
$src = Join-Path $SourceDir 'ecr-credential-provider.exe'
if (-not (Test-Path -LiteralPath $src)) { throw "no ecr-credential-provider.exe in $SourceDir" }
if (Test-Path -LiteralPath $Exe) {
  $old = "$Exe.old-$([DateTime]::UtcNow.ToString('yyyyMMddHHmmss'))"
  Move-Item -LiteralPath $Exe -Destination $old
  Remove-Item -LiteralPath $old -ErrorAction SilentlyContinue
}
Copy-Item -LiteralPath $src -Destination $Exe
Get-ChildItem -LiteralPath $BinDir -Filter '*.old-*' | Remove-Item -ErrorAction SilentlyContinue
& $Exe --version
if ($LASTEXITCODE -ne 0) { throw "$Exe --version failed with exit code $LASTEXITCODE" }

# 3. The kubelet's CredentialProviderConfig, with the provider named after the file.
if (-not $ConfigFile) { $ConfigFile = Join-Path $SourceDir 'node-config\wiring\windows\credential-provider-config.json' }
$text = Get-Content -Raw -LiteralPath $ConfigFile
$text = $text -replace '"name":\s*"ecr-credential-provider"', ('"name": "' + $ProviderName + '"')
Write-Utf8NoBom $Config $text
Write-Host "wrote $Config"
& $Exe doctor --offline --kubelet-flags none --config $Config --bin-dir $BinDir
if ($LASTEXITCODE -ne 0) { Write-Warning "doctor reported problems (exit $LASTEXITCODE); see above" }

# 4. Wiring.
switch ($Wiring) {
  'None' { Write-Host "kubelet flags: $Flags" }
  'Eks' { Write-Host "pass to Start-EKSBootstrap.ps1: -KubeletExtraArgs '$Flags'" }
  'ServiceArgs' {
    $current = (Get-ItemProperty -Path $ServiceKey -Name ImagePath).ImagePath
    if (-not (Test-Path -LiteralPath $SavedImagePath)) { Write-Utf8NoBom $SavedImagePath $current }
    $wanted = ($current -replace $FlagPattern, '') + " $Flags"
    if ($wanted -ceq $current) { Write-Host 'service command line already wired: nothing to do'; return }
    Set-ItemProperty -Path $ServiceKey -Name ImagePath -Value $wanted
    Write-Host "service $ServiceName now runs: $wanted"
    Restart-Kubelet
  }
}
