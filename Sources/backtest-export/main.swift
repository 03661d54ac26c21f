print("backtest-export")
