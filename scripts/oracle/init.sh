#!/bin/busybox sh
# The oracle's guest (/init of its initramfs; scripts/oracle.mjs builds it). Memory is kept full of page cache by
# `cat` of a sparse 2000 MB file on an ext2 virtio disk; then, for each mode of fl_modes in turn: /proc/vmstat and
# PSI before, flstorm.ko mode=M (or, for mode u, flstorm.ko mode=0 with the userspace storm ustorm) for fl_secs,
# vmstat and PSI after, rmmod, and the module's FLK lines. Everything goes to the serial console between
# =====FL_BEGIN name / =====FL_END name lines; scripts/lib/oracle-log.mjs reads them.
/bin/busybox --install -s /bin
export PATH=/bin
mkdir -p /proc /sys /dev /mnt
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
up() { cut -d' ' -f1 /proc/uptime; }
sec() { echo "=====FL_BEGIN $1"; cat "$2"; echo "=====FL_END $1"; }
arg() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" /proc/cmdline; }
MODES=$(arg fl_modes | tr , ' '); SECS=$(arg fl_secs); WARM=$(arg fl_warm); SETTLE=$(arg fl_settle)
KARGS=$(arg fl_kargs | tr , ' '); UPER=$(arg fl_uper); UCYCLE=$(arg fl_ucycle)
echo "=====FL_INIT uptime=$(up)"
for m in /lib/fl/*.ko; do insmod $m; done
i=0; while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
mount -t ext2 -o ro /dev/vda /mnt || echo "=====FL_ERROR mount"
echo "=====FL_PARAMS modes=$MODES secs=$SECS warm=$WARM settle=$SETTLE kargs=$KARGS uper=$UPER ucycle=$UCYCLE nproc=$(nproc) kernel=$(uname -r)"
sec zoneinfo_start /proc/zoneinfo
(while :; do cat /mnt/big > /dev/null; done) &
RPID=$!
# The reader's CPU in clock ticks (USER_HZ): its finished cats' (the loop's cutime and cstime) and the running one's.
rcpu() {
  t=$(cut -d' ' -f16,17 /proc/$RPID/stat | tr ' ' '+')
  for s in /proc/[0-9]*/stat; do
    set -- $(cat $s 2>/dev/null)
    [ "$4" = "$RPID" ] && t="$t+${14}+${15}"
  done
  echo $((t))
}
sleep $WARM
echo "=====FL_WARM uptime=$(up) $(grep -E '^(MemFree|Cached):' /proc/meminfo | tr -s ' ' | tr '\n' ' ')"
n=0
for m in $MODES; do
  n=$((n+1)); tag="run$n.mode$m"
  [ $n -gt 1 ] && sleep $SETTLE   # the reader fills again what the last run's storm freed
  sec "$tag.vmstat_before" /proc/vmstat; sec "$tag.psi_before" /proc/pressure/memory
  echo "=====FL_RUN $tag start uptime=$(up) reader_ticks=$(rcpu) clk_tck=$(getconf CLK_TCK 2>/dev/null || echo 100)"
  if [ "$m" = u ]; then
    insmod /lib/flstorm.ko mode=0 $KARGS || echo "=====FL_ERROR insmod"
    /lib/ustorm $UPER $UCYCLE $SECS
  else
    insmod /lib/flstorm.ko mode=$m $KARGS || echo "=====FL_ERROR insmod"
    sleep $SECS
  fi
  sec "$tag.vmstat_after" /proc/vmstat; sec "$tag.psi_after" /proc/pressure/memory
  echo "=====FL_RUN $tag stop uptime=$(up) reader_ticks=$(rcpu)"
  rmmod flstorm
  echo "=====FL_BEGIN $tag.flk"
  dmesg | grep -E 'FLK|Out of memory|Killed process|page allocation failure' | tail -12
  echo "=====FL_END $tag.flk"
  dmesg -c > /dev/null
done
echo "=====FL_DONE uptime=$(up)"
poweroff -f
