package pmempool

import loglayout "github.com/gopmdk/pmdk/log/layout"

// checkLog is check_log: the three offsets of the log descriptor.
func (c *checker) checkLog() error {
	c.infof("checking pmemlog header")
	start, end, wr := c.im.u64(loglayout.StartOffsetAt), c.im.u64(loglayout.EndOffsetAt), c.im.u64(loglayout.WriteOffsetAt)
	size := c.im.size
	type q struct {
		bad  bool
		msg  string
		info string
		at   uint64
		val  uint64
	}
	qs := []q{
		{start != loglayout.DataStart, sprintf("invalid pmemlog.start_offset: 0x%x.|Do you want to set pmemlog.start_offset to default 0x%x?", start, loglayout.DataStart),
			sprintf("setting pmemlog.start_offset to 0x%x", loglayout.DataStart), loglayout.StartOffsetAt, loglayout.DataStart},
		{end != size, sprintf("invalid pmemlog.end_offset: 0x%x.|Do you want to set pmemlog.end_offset to 0x%x?", end, size),
			sprintf("setting pmemlog.end_offset to 0x%x", size), loglayout.EndOffsetAt, size},
		{wr < loglayout.DataStart || wr > size, sprintf("invalid pmemlog.write_offset: 0x%x.|Do you want to set pmemlog.write_offset to pmemlog.end_offset?", wr),
			"setting pmemlog.write_offset to pmemlog.end_offset", loglayout.WriteOffsetAt, size},
	}
	var todo []q
	for _, x := range qs {
		if !x.bad {
			continue
		}
		yes, err := c.ask(x.msg, true)
		if err != nil {
			return err
		}
		if !yes {
			c.res = NotConsistent
			return errStop
		}
		todo = append(todo, x)
	}
	if len(todo) == 0 {
		c.infof("pmemlog header correct")
		return nil
	}
	for _, x := range todo {
		c.infof("%s", x.info)
		c.im.putU64(x.at, x.val)
	}
	c.fixed()
	return nil
}
