# Sorts the CPU samples of a gateway profile taken during the flood into buckets (first match
# wins, in this order), to say where a refused request's CPU goes:
#   python3 refusal_buckets.py gateway-flood-detailed.pprof
# and, for one bucket, which receiver frames its samples sit under:
#   python3 refusal_buckets.py gateway-flood-detailed.pprof "receiver: gate"
import sys, re, subprocess, collections
prof = sys.argv[1]
out = subprocess.run(["go","tool","pprof","-traces",prof],capture_output=True,text=True).stdout
buckets = [
 ("admitted work (decode, exporter, ClickHouse client)", r"clickhouselanesexporter\.|ClickHouse/ch-go|clickhouse-go|\]\)\.decode$|\]\)\.process$|UnmarshalProto"),
 ("goroutine stack growth (a new goroutine per stream)", r"runtime\.newstack"),
 ("otelgrpc stats handler (dropped below telemetry level detailed)", r"otelgrpc"),
 ("receiver: join the message into one buffer to count refused items", r"receivedMessage\)\.bytes"),
 ("receiver: count items (otlpwire.Count)", r"otlpwire\.Count"),
 ("gRPC: assemble the message (RecvMsg)", r"RecvMsg|recvAndDecompress"),
 ("gRPC: write the status (headers/trailers, loopy writer)", r"writeStatus|loopyWriter|finishStream|controlBuffer"),
 ("receiver: gate, refusal metrics, obsreport", r"sluicereceiver|internal/admission|receiverhelper"),
 ("gRPC: read HTTP/2 frames from the socket", r"readFrame|HandleStreams|readyreader"),
 ("gRPC: stream setup (headers)", r"operateHeaders"),
 ("GC", r"gcBgMarkWorker|gcAssist|bgsweep|bgscavenge"),
 ("telemetry export (prometheus)", r"prometheus|promhttp"),
]
tot = collections.Counter(); total=0
for block in out.split("-----------+-------------------------------------------------------")[1:]:
    lines=[l for l in block.strip().split("\n") if l.strip()]
    if not lines: continue
    m=re.match(r"\s*([\d.]+)(ms|s)\s+(.*)",lines[0])
    if not m: continue
    v=float(m.group(1))*(1 if m.group(2)=="ms" else 1000)
    frames=[m.group(3).strip()]+[l.strip() for l in lines[1:]]
    total+=v
    for name,pat in buckets:
        if any(re.search(pat,f) for f in frames):
            tot[name]+=v; break
    else: tot["other (scheduler, netpoll, timers)"]+=v
print("total %.2fs"%(total/1000))
for k,v in tot.most_common(): print("%5.1f%%  %6.2fs  %s"%(100*v/total,v/1000,k))
if len(sys.argv)>2:
    want=sys.argv[2]; c=collections.Counter()
    for block in out.split("-----------+-------------------------------------------------------")[1:]:
        lines=[l for l in block.strip().split("\n") if l.strip()]
        m=re.match(r"\s*([\d.]+)(ms|s)\s+(.*)",lines[0]) if lines else None
        if not m: continue
        v=float(m.group(1))*(1 if m.group(2)=="ms" else 1000)
        frames=[m.group(3).strip()]+[l.strip() for l in lines[1:]]
        for name,pat in buckets:
            if any(re.search(pat,f) for f in frames):
                if name.startswith(want):
                    # the frame just below the first sluicereceiver frame
                    idx=[i for i,f in enumerate(frames) if re.search(r"sluicereceiver|admission|receiverhelper",f)]
                    k=frames[idx[0]] if idx else frames[0]
                    k=re.sub(r"\[go\.shape.*\]\)","[...])",k)
                    c[(k, re.sub(r"\[go\.shape.*\]\)","[...])",frames[idx[0]-1]) if idx and idx[0]>0 else "")]+=v
                break
    for (k,l),v in c.most_common(15): print("%6.0fms %s <- %s"%(v,k[:90],l[:70]))
