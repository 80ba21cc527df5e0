@echo off
rem Written by 'voxtrald install-service'; remove with 'voxtrald uninstall-service'.
rem Starts the Voxtral transcription daemon and its tray at logon.
start "" /b C:\Users\YOU\AppData\Local\Programs\Python\Python312\pythonw.exe -m voxtrald.cli run
start "" /b C:\Users\YOU\AppData\Local\Programs\Python\Python312\pythonw.exe -c "from tray.app import main; raise SystemExit(main())"
