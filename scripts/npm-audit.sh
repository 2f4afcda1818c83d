#!/usr/bin/env bash
# Fails on a high or critical advisory in production dependencies. Where the
# registry does not serve the audit endpoint (some mirrors answer 405), it says
# so and does not fail: the check could not be made, which is not a finding.
set -uo pipefail
out=$(npm audit --omit=dev --audit-level=high --json 2>&1)
code=$?
if echo "$out" | grep -q "audit endpoint returned an error\|ENOAUDIT\|405 Method Not Allowed"; then
  echo "npm audit: the registry's audit endpoint is unavailable here; advisories not checked"
  exit 0
fi
echo "$out" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{const v=JSON.parse(s).metadata.vulnerabilities;console.log("npm audit (production deps):",JSON.stringify(v))}catch{console.log(s.slice(0,2000))}})'
exit $code
